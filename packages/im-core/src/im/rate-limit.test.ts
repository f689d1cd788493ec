import { describe, expect, it } from "vitest";
import { drive, FakeClock } from "../../testing/im.ts";
import { RateLimiter } from "./rate-limit.ts";

async function startTimes(limiter: RateLimiter, clock: FakeClock, calls: number): Promise<number[]> {
  const times: number[] = [];
  await drive(
    clock,
    Promise.all(Array.from({ length: calls }, () => limiter.take().then(() => times.push(clock.now())))),
  );
  return times;
}

/** The most calls that started within any window of `windowMs`. */
function busiestWindow(times: number[], windowMs: number): number {
  return Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + windowMs).length));
}

describe("RateLimiter", () => {
  it("lets a burst of `rate` calls go at once, then the next burst a second later, in call order", async () => {
    const clock = new FakeClock(0);
    const times = await startTimes(new RateLimiter(4, clock), clock, 10);
    expect(times).toEqual([0, 0, 0, 0, 1000, 1000, 1000, 1000, 2000, 2000]);
  });

  it("never starts more than `rate` calls in any one-second window, however the calls arrive", async () => {
    const clock = new FakeClock(0);
    const limiter = new RateLimiter(10, clock);
    const times: number[] = [];
    for (let i = 0; i < 60; i++) {
      clock.advance(i % 7 === 0 ? 350 : 3); // bursts and gaps
      await drive(clock, limiter.take());
      times.push(clock.now());
    }
    expect(busiestWindow(times, 1000)).toBeLessThanOrEqual(10);
  });

  it("rounds a fractional rate down, and spaces calls for a rate below one per second", async () => {
    const clock = new FakeClock(0);
    expect(busiestWindow(await startTimes(new RateLimiter(2.5, clock), clock, 7), 1000)).toBe(2);
    const slow = new FakeClock(0);
    expect(await startTimes(new RateLimiter(0.5, slow), slow, 3)).toEqual([0, 2000, 4000]);
  });

  it("lets a call through at once after a quiet spell", async () => {
    const clock = new FakeClock(0);
    const limiter = new RateLimiter(1, clock);
    await drive(clock, limiter.take());
    clock.advance(10_000);
    const before = clock.now();
    await drive(clock, limiter.take());
    expect(clock.now()).toBe(before);
  });

  it("gives an aborted reservation back so the next taker does not wait for it", async () => {
    const clock = new FakeClock(0);
    const limiter = new RateLimiter(1, clock);
    await limiter.take();
    const controller = new AbortController();
    const aborted = limiter.take(controller.signal).catch((e: unknown) => e);
    controller.abort(new Error("stop"));
    expect(await aborted).toMatchObject({ message: "stop" });
    await drive(clock, limiter.take());
    expect(clock.now()).toBe(1000);
  });

  it("refuses a rate that is not positive", () => {
    expect(() => new RateLimiter(0, new FakeClock())).toThrow(RangeError);
    expect(() => new RateLimiter(Number.NaN, new FakeClock())).toThrow(RangeError);
  });
});
