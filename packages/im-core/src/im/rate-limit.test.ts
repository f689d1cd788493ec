import { describe, expect, it } from "vitest";
import { TokenBucket } from "./rate-limit.ts";
import { drive, FakeClock } from "./testing.ts";

describe("TokenBucket", () => {
  it("serves concurrent takers in call order, 1/rate apart, on the injected clock", async () => {
    const clock = new FakeClock(0);
    const bucket = new TokenBucket(4, clock);
    const served: Array<[number, number]> = [];
    await drive(
      clock,
      Promise.all(
        Array.from({ length: 6 }, (_, i) => bucket.take().then(() => served.push([i, clock.now()]))),
      ),
    );
    expect(served).toEqual([
      [0, 0],
      [1, 250],
      [2, 500],
      [3, 750],
      [4, 1000],
      [5, 1250],
    ]);
  });

  it("allows a burst of `capacity` after a quiet spell, then the rate", async () => {
    const clock = new FakeClock(0);
    const bucket = new TokenBucket(10, clock, 3);
    clock.advance(60_000);
    const times: number[] = [];
    await drive(
      clock,
      Promise.all(Array.from({ length: 5 }, () => bucket.take().then(() => times.push(clock.now())))),
    );
    expect(times).toEqual([60_000, 60_000, 60_000, 60_100, 60_200]);
  });

  it("gives an aborted reservation back so the next taker does not wait for it", async () => {
    const clock = new FakeClock(0);
    const bucket = new TokenBucket(1, clock);
    await bucket.take();
    const controller = new AbortController();
    const aborted = bucket.take(controller.signal).catch((e: unknown) => e);
    controller.abort(new Error("stop"));
    expect(await aborted).toMatchObject({ message: "stop" });
    const next = bucket.take();
    await drive(clock, next);
    expect(clock.now()).toBe(1000);
  });

  it("refuses a rate that is not positive", () => {
    expect(() => new TokenBucket(0, new FakeClock())).toThrow(RangeError);
    expect(() => new TokenBucket(Number.NaN, new FakeClock())).toThrow(RangeError);
  });
});
