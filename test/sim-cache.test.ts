import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Simulator, type SimulatorOptions, startSimulator } from "@imvault/im-sim";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type FileEntry, historyFiles, READY_HOUR, StepClock } from "./sim-helpers.ts";

const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");
const settle = () => new Promise((r) => setTimeout(r, 30));
const figuresOf = (files: FileEntry[]) =>
  files.map(({ FileSize, FileMD5, GzipSize, GzipMD5 }) => ({ FileSize, FileMD5, GzipSize, GzipMD5 }));

async function download(url: string, init?: RequestInit): Promise<{ status: number; body: Buffer }> {
  const res = await fetch(url, init);
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}

describe("im-sim disk cache (cacheDir)", () => {
  const clock = new StepClock();
  // Several files (split at 256 KiB plain), so the cache holds more than one file per hour.
  const base: SimulatorOptions = {
    clock,
    seed: "cache",
    volume: 2000,
    maxFileBytes: 256 * 1024,
    rateLimitPerSecond: 1000,
  };
  let dir: string;
  let cached: Simulator;
  let files: FileEntry[];
  const started: Simulator[] = [];
  const start = async (o: SimulatorOptions) => {
    const sim = await startSimulator(o);
    started.push(sim);
    return sim;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "imvault-sim-cache-"));
    cached = await start({ ...base, cacheDir: dir });
    files = await historyFiles(cached.url, clock, "C2C", READY_HOUR);
  });
  afterEach(() => cached.faults.clear());
  afterAll(async () => {
    await Promise.all(started.map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it("serves the same figures and bytes as an uncached simulator with the same seed", async () => {
    const plain = await start(base);
    const expected = await historyFiles(plain.url, clock, "C2C", READY_HOUR);
    const fromCache = await Promise.all(files.map((f) => download(f.URL)));
    const regenerated = await Promise.all(expected.map((f) => download(f.URL)));

    expect(files.length).toBeGreaterThan(1);
    expect(figuresOf(files)).toEqual(figuresOf(expected));
    expect(fromCache.map((d) => md5(d.body))).toEqual(regenerated.map((d) => md5(d.body)));
    expect(fromCache.map((d) => md5(d.body))).toEqual(files.map((f) => f.GzipMD5));
    expect((await readdir(dir)).filter((n) => n.endsWith(".gz"))).toHaveLength(files.length);
  });

  it("serves Range and HEAD from a cached file", async () => {
    const f = files[0]!;
    const whole = (await download(f.URL)).body;
    const part = await download(f.URL, { headers: { range: "bytes=1000-1999" } });
    const head = await fetch(f.URL, { method: "HEAD" });

    expect(part.status).toBe(206);
    expect(part.body.equals(whole.subarray(1000, 2000))).toBe(true);
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(f.GzipSize));
  });

  it("applies corrupt, truncate, slow and expireUrlEarly to cached files", async () => {
    const f = files[0]!;
    const whole = (await download(f.URL)).body;

    cached.faults.next({ kind: "corrupt" });
    const corrupt = (await download(f.URL)).body;
    cached.faults.next({ kind: "truncate", afterBytes: 10_000 });
    const truncated = await fetch(f.URL).then(async (res) => {
      let n = 0;
      try {
        for await (const c of res.body!) n += (c as Uint8Array).length;
      } catch {
        return n;
      }
      return -1;
    });
    cached.faults.next({ kind: "slow", bytesPerSecond: 8 * 1024 * 1024 });
    const slow = (await download(f.URL)).body;
    cached.faults.next({ kind: "expireUrlEarly" });
    const expired = await download(f.URL);
    await settle();

    const flipped = [...corrupt.keys()].filter((i) => corrupt[i] !== whole[i]);
    expect(corrupt.length).toBe(whole.length);
    expect(flipped).toEqual([Math.floor(whole.length / 2)]);
    expect(truncated).toBe(10_000);
    expect(md5(slow)).toBe(f.GzipMD5);
    expect(expired.status).toBe(403);
    expect(cached.downloads.slice(-4).map((d) => d.fault)).toEqual([
      "corrupt",
      "truncate",
      "slow",
      "expireUrlEarly",
    ]);
  });

  it("applies stall to a cached file: some bytes, then nothing until the client gives up", async () => {
    cached.faults.next({ kind: "stall", afterBytes: 5000 });
    const abort = new AbortController();
    const res = await fetch(files[0]!.URL, { signal: abort.signal });
    const reader = res.body!.getReader();
    let received = 0;
    while (received < 5000) received += (await reader.read()).value!.length;
    const more = await Promise.race([reader.read().then(() => "data"), settle().then(() => "nothing")]);
    abort.abort();
    await settle();

    expect(received).toBe(5000);
    expect(more).toBe("nothing");
    expect(cached.downloads.at(-1)).toMatchObject({ fault: "stall", bytesSent: 5000, ended: true });
  });

  it("reuses complete cache files on a later start with the same settings (no rewrite)", async () => {
    const names = (await readdir(dir)).filter((n) => n.endsWith(".gz"));
    const before = await Promise.all(names.map((n) => stat(join(dir, n))));
    const again = await start({ ...base, cacheDir: dir });
    const listed = await historyFiles(again.url, clock, "C2C", READY_HOUR);
    const served = await download(listed[1]!.URL);
    const after = await Promise.all(names.map((n) => stat(join(dir, n))));

    expect(figuresOf(listed)).toEqual(figuresOf(files));
    expect(md5(served.body)).toBe(files[1]!.GzipMD5);
    expect(after.map((s) => [s.ino, s.mtimeMs])).toEqual(before.map((s) => [s.ino, s.mtimeMs]));
  });

  it("keeps entries of other settings apart: another gzip level gets its own files", async () => {
    const other = await start({ ...base, cacheDir: dir, gzipLevel: 1 });
    const listed = await historyFiles(other.url, clock, "C2C", READY_HOUR);
    const served = await Promise.all(listed.map((f) => download(f.URL)));

    expect(listed.map((f) => f.GzipMD5)).not.toEqual(files.map((f) => f.GzipMD5));
    expect(served.map((d) => md5(d.body))).toEqual(listed.map((f) => f.GzipMD5));
  });

  it("streams downloads from the cached file rather than regenerating them", async () => {
    const own = await mkdtemp(join(tmpdir(), "imvault-sim-cache-own-"));
    try {
      const sim = await start({ ...base, cacheDir: own });
      const [f] = await historyFiles(sim.url, clock, "C2C", READY_HOUR);
      const gz = (await readdir(own)).find((n) => n.endsWith(".0.gz"))!;
      const marker = Buffer.alloc(f!.GzipSize, 0x2a);
      await writeFile(join(own, gz), marker);

      const served = await download(f!.URL);

      expect(served.body.equals(marker)).toBe(true);
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  });

  it("ignores a killed simulator's leftovers: a temp file and files without their figures file", async () => {
    const crashed = await mkdtemp(join(tmpdir(), "imvault-sim-cache-crash-"));
    try {
      const first = await start({ ...base, cacheDir: crashed });
      await historyFiles(first.url, clock, "C2C", READY_HOUR);
      await first.close();
      // As if killed mid-pass: the figures file never written, a partial file under a temp name.
      const names = await readdir(crashed);
      const gz = names.find((n) => n.endsWith(".0.gz"))!;
      await unlink(join(crashed, names.find((n) => n.endsWith(".json"))!));
      const temp = join(crashed, `${gz}.tmp-99999-deadbeef`);
      await writeFile(temp, "partial garbage");
      await writeFile(join(crashed, gz), Buffer.alloc(files[0]!.GzipSize));

      const next = await start({ ...base, cacheDir: crashed });
      const listed = await historyFiles(next.url, clock, "C2C", READY_HOUR);
      const served = await download(listed[0]!.URL);

      expect(md5(served.body)).toBe(files[0]!.GzipMD5);
      expect(await readFile(temp, "utf8")).toBe("partial garbage");
    } finally {
      await rm(crashed, { recursive: true, force: true });
    }
  });
});
