import type { Clock } from "../util/clock.ts";

/**
 * Where every request of the IM client takes its turn, so that the app's calls per second stay
 * within Tencent's limit. The default is one RateLimiter per client; processes that share the app's
 * limit on one machine share a file-backed one (createFileRateLimit).
 */
export interface RateLimit {
  /** Resolves when the caller may send one request; rejects with the signal's reason if it aborts first. */
  take(signal?: AbortSignal): Promise<void>;
}

/**
 * A sliding-window limiter on an injected clock: at most `limit` calls start within any window of
 * `windowMs`. Tencent's limits are calls per second, so for a rate of N calls/s this lets a burst of
 * N go at once (a moderator's batch of lookups is not queued behind itself) and still never puts
 * more than N calls in any second, however Tencent aligns its seconds.
 *
 * `take` reserves a start time synchronously, in call order, then sleeps until it: concurrent callers
 * need no lock. A fractional rate above 1 rounds down (never above the rate); below 1 it becomes one
 * call per 1/rate seconds.
 */
export class RateLimiter implements RateLimit {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #clock: Clock;
  /** Start times of the reservations that can still constrain a new one, oldest first. */
  #starts: number[] = [];

  constructor(ratePerSecond: number, clock: Clock) {
    if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) {
      throw new RangeError(`rate must be a positive number of calls per second, got ${ratePerSecond}`);
    }
    this.#limit = Math.max(1, Math.floor(ratePerSecond));
    this.#windowMs = ratePerSecond >= 1 ? 1000 : 1000 / ratePerSecond;
    this.#clock = clock;
  }

  /** Resolves when the caller may make one call; rejects with the signal's reason if it aborts first. */
  async take(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const now = this.#clock.now();
    // A start a whole window ago no longer counts against anyone.
    while (this.#starts.length > 0 && this.#starts[0]! + this.#windowMs <= now) this.#starts.shift();
    // Starts are in increasing order: the new call may go one window after the limit-th most recent.
    const bound = this.#starts[this.#starts.length - this.#limit];
    const start = bound === undefined ? now : Math.max(now, bound + this.#windowMs);
    this.#starts.push(start);
    if (start <= now) return;
    try {
      await this.#clock.sleep(start - now, signal);
    } catch (error) {
      // An aborted caller never calls: give its slot back (later reservations keep theirs, which
      // can only make them later than needed, never earlier).
      const at = this.#starts.lastIndexOf(start);
      if (at !== -1) this.#starts.splice(at, 1);
      throw error;
    }
  }
}
