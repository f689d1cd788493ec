import { describe, expect, it } from "vitest";
import { RateLimiter } from "./rate-limit.ts";

describe("rate limiter", () => {
  it("allows N calls per key in a second, refuses the next, and starts over the next second", () => {
    const r = new RateLimiter(3);
    const t = 1_700_000_000_000;

    expect([1, 2, 3, 4].map(() => r.take("a", t + 10))).toEqual([true, true, true, false]);
    expect(r.take("b", t + 10)).toBe(true);
    expect(r.take("a", t + 999)).toBe(false);
    expect(r.take("a", t + 1000)).toBe(true);
  });
});
