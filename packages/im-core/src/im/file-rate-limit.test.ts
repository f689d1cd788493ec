import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FileRateLimit, MARGIN_MS, SharedRateLimitError } from "./file-rate-limit.ts";

const T0 = Date.parse("2024-03-01T00:00:00Z");

/** A clock that stands still unless moved; sleeps return at once and are recorded. */
function standingClock(start = T0) {
  const clock = {
    t: start,
    sleeps: [] as number[],
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.sleeps.push(ms);
    },
  };
  return clock;
}

/** The most of `times` within any window of `windowMs`. */
function busiestWindow(times: number[], windowMs: number): number {
  return Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + windowMs).length));
}

describe("FileRateLimit", () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "imvault-rate-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("shares one budget between limiters on one directory: 25 calls at 10/s go as bursts of 10, a second and the margin apart", async () => {
    const clock = standingClock();
    // Three limiters stand for three processes: they share nothing but the directory.
    const limiters = [0, 1, 2].map(() => new FileRateLimit({ dir, ratePerSecond: 10, clock }));

    await Promise.all(Array.from({ length: 25 }, (_, i) => limiters[i % 3]!.take()));

    // Nothing moved the clock: each wait is a start's distance from now.
    const starts = [...Array(25 - clock.sleeps.length).fill(0), ...clock.sleeps].sort((a, b) => a - b);
    expect(starts).toEqual(Array.from({ length: 25 }, (_, i) => Math.floor(i / 10) * (1000 + MARGIN_MS)));
    expect(busiestWindow(starts, 1000 + MARGIN_MS)).toBe(10);
  });

  it("lets a call go at once after a quiet spell, and keeps only the last window's starts on disk", async () => {
    const clock = standingClock();
    const limiter = new FileRateLimit({ dir, ratePerSecond: 4, clock });
    for (let i = 0; i < 12; i++) {
      await limiter.take();
      clock.t += 300;
    }
    expect(clock.sleeps).toEqual([]);

    clock.t += 10_000;
    await limiter.take();

    expect(clock.sleeps).toEqual([]);
    expect((await readFile(join(dir, "starts"), "utf8")).trim().split("\n")).toEqual([String(clock.t)]);
  });

  it("keeps its directory and files the owner's only (0700, 0600), as every local file", async () => {
    const shared = join(dir, "rate-limit", "1400000000");
    const limiter = new FileRateLimit({ dir: shared, ratePerSecond: 10, clock: standingClock() });

    await limiter.take();

    expect((await stat(join(dir, "rate-limit"))).mode & 0o777).toBe(0o700);
    expect((await stat(shared)).mode & 0o777).toBe(0o700);
    expect((await stat(join(shared, "starts"))).mode & 0o777).toBe(0o600);
  });

  it("below one call per second, spaces calls 1/rate seconds (plus the margin) apart", async () => {
    const clock = standingClock();
    const limiter = new FileRateLimit({ dir, ratePerSecond: 0.5, clock, marginMs: 50 });
    await Promise.all([limiter.take(), limiter.take(), limiter.take()]);
    expect(clock.sleeps).toEqual([2_050, 4_100]);
  });

  it("takes over a lock left by a process killed with kill -9 (its pid is gone) at once", async () => {
    const dead = spawnSync(process.execPath, ["-e", ""]).pid;
    await writeFile(join(dir, "lock"), String(dead));
    const limiter = new FileRateLimit({ dir, ratePerSecond: 10, clock: standingClock() });

    const began = Date.now();
    await limiter.take();

    expect(Date.now() - began).toBeLessThan(1_000);
  });

  it("takes over a lock older than two seconds even when its pid still runs, and waits for a fresh one", async () => {
    const lock = join(dir, "lock");
    await writeFile(lock, String(process.pid));
    const old = (Date.now() - 3_000) / 1000;
    await utimes(lock, old, old);
    const limiter = new FileRateLimit({ dir, ratePerSecond: 10, clock: standingClock() });
    await limiter.take();

    await writeFile(lock, String(process.pid));
    let done = false;
    const pending = limiter.take().then(() => {
      done = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(done).toBe(false);
    await rm(lock);
    await pending;
    expect(done).toBe(true);
  });

  it("fails with SharedRateLimitError naming the directory when it cannot be made", async () => {
    await writeFile(join(dir, "file"), "");
    const limiter = new FileRateLimit({ dir: join(dir, "file", "rate"), ratePerSecond: 10 });

    const error = await limiter.take().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(SharedRateLimitError);
    expect((error as Error).message).toContain(join(dir, "file", "rate"));
  });

  it("rejects with the signal's reason when aborted while waiting for its start", async () => {
    const controller = new AbortController();
    const clock = {
      now: () => T0,
      sleep: (_ms: number, signal?: AbortSignal) =>
        new Promise<void>((_resolve, reject) => {
          signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
        }),
    };
    const limiter = new FileRateLimit({ dir, ratePerSecond: 1, clock });
    await limiter.take();

    const second = limiter.take(controller.signal);
    setTimeout(() => controller.abort(new Error("caller gave up")), 20);

    await expect(second).rejects.toThrow("caller gave up");
  });
});
