import { describe, expect, it } from "vitest";
import { exponentialBackoff, fullJitterBackoff, retry } from "./retry.ts";

/** A clock whose sleeps return at once (or, `hang`, only when aborted), recording every wait. */
function recordingClock(options: { hang?: boolean } = {}) {
  const sleeps: number[] = [];
  return {
    sleeps,
    sleep(ms: number, signal?: AbortSignal): Promise<void> {
      sleeps.push(ms);
      if (!options.hang) return Promise.resolve();
      return new Promise<void>((_resolve, reject) => {
        signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
    },
  };
}

class Transient extends Error {}
class Final extends Error {}

/** A function that fails with the given errors in turn, then answers "done". */
function failingWith(...errors: Error[]) {
  const tries: number[] = [];
  const fn = async (attempt: number) => {
    tries.push(attempt);
    const error = errors[tries.length - 1];
    if (error !== undefined) throw error;
    return "done";
  };
  return { fn, tries };
}

describe("retry", () => {
  it("returns the first success, waiting the policy's delay before each further try", async () => {
    const clock = recordingClock();
    const { fn, tries } = failingWith(new Transient("a"), new Transient("b"));

    const result = await retry(fn, { attempts: 5, delay: (attempt) => attempt * 100, clock });

    expect(result).toBe("done");
    expect(tries).toEqual([1, 2, 3]);
    expect(clock.sleeps).toEqual([100, 200]);
  });

  it("gives up after `attempts` tries with the last error unchanged, and waits only between tries", async () => {
    const clock = recordingClock();
    const last = new Transient("third");
    const { fn, tries } = failingWith(new Transient("first"), new Transient("second"), last);

    await expect(retry(fn, { attempts: 3, delay: () => 10, clock })).rejects.toBe(last);
    expect(tries).toEqual([1, 2, 3]);
    expect(clock.sleeps).toEqual([10, 10]);
  });

  it("does not retry what isRetryable refuses, nor ask the policy for a delay", async () => {
    const clock = recordingClock();
    const final = new Final("no");
    const { fn, tries } = failingWith(new Transient("yes"), final);
    const asked: unknown[] = [];

    const outcome = retry(fn, {
      attempts: 5,
      isRetryable: (error) => error instanceof Transient,
      delay: (_attempt, error) => {
        asked.push(error);
        return 1;
      },
      clock,
    });

    await expect(outcome).rejects.toBe(final);
    expect(tries).toEqual([1, 2]);
    expect(asked).toHaveLength(1);
  });

  it("stops when the policy refuses a wait (undefined), e.g. one allowed only once", async () => {
    const clock = recordingClock();
    const { fn, tries } = failingWith(new Transient("a"), new Transient("b"), new Transient("c"));
    let waited = false;
    const once = () => {
      if (waited) return undefined;
      waited = true;
      return 60_000;
    };

    await expect(retry(fn, { attempts: 5, delay: once, clock })).rejects.toThrow("b");
    expect(tries).toEqual([1, 2]);
    expect(clock.sleeps).toEqual([60_000]);
  });

  it("tells onRetry about each failure that is retried, with the wait that follows", async () => {
    const clock = recordingClock();
    const first = new Transient("a");
    const { fn } = failingWith(first);
    const events: unknown[] = [];

    await retry(fn, { attempts: 2, delay: () => 7, clock, onRetry: (event) => events.push(event) });

    expect(events).toEqual([{ attempt: 1, error: first, delayMs: 7 }]);
  });

  it("rejects with the signal's reason when aborted during a wait, and tries no more", async () => {
    const clock = recordingClock({ hang: true });
    const { fn, tries } = failingWith(new Transient("a"));
    const controller = new AbortController();

    const outcome = retry(fn, { attempts: 3, delay: () => 1_000, clock, signal: controller.signal });
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort(new Error("caller gave up"));

    await expect(outcome).rejects.toThrow("caller gave up");
    expect(tries).toEqual([1]);
  });

  it("does not retry a failure that ends while the signal is aborted, nor start with an aborted one", async () => {
    const clock = recordingClock();
    const controller = new AbortController();
    const failure = new Transient("cut short");
    const fn = async () => {
      controller.abort(new Error("stop"));
      throw failure;
    };

    await expect(retry(fn, { attempts: 3, delay: () => 0, clock, signal: controller.signal })).rejects.toBe(
      failure,
    );
    await expect(
      retry(async () => "never", { attempts: 3, delay: () => 0, clock, signal: controller.signal }),
    ).rejects.toThrow("stop");
    expect(clock.sleeps).toEqual([]);
  });

  it.each([0, 1.5, Number.NaN])("refuses %d attempts", async (attempts) => {
    await expect(retry(async () => 1, { attempts, delay: () => 0 })).rejects.toThrow(RangeError);
  });
});

describe("backoff policies", () => {
  it("full jitter: a uniform draw below a doubling ceiling, capped at maxMs", () => {
    const draws = [0.5, 0.5, 0.5, 0.5, 0.999, 0];
    const delay = fullJitterBackoff({ baseMs: 250, maxMs: 1_000, random: () => draws.shift()! });
    expect([1, 2, 3, 4, 5, 6].map(delay)).toEqual([125, 250, 500, 500, 999, 0]);
  });

  it("full jitter above a floor: minMs is always waited in full", () => {
    const low = fullJitterBackoff({ minMs: 1_000, baseMs: 1_000, random: () => 0 });
    const high = fullJitterBackoff({ minMs: 1_000, baseMs: 1_000, maxMs: 4_000, random: () => 0.999 });
    expect([1, 2, 3].map(low)).toEqual([1_000, 1_000, 1_000]);
    expect([1, 2, 3, 4].map(high)).toEqual([1_999, 2_998, 4_996, 4_996]);
  });

  it("exponential without jitter doubles from baseMs up to maxMs", () => {
    const delay = exponentialBackoff({ baseMs: 200, maxMs: 1_000 });
    expect([1, 2, 3, 4].map(delay)).toEqual([200, 400, 800, 1_000]);
  });
});
