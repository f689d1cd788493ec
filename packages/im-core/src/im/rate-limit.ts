import type { Clock } from "../util/clock.ts";

/**
 * A token bucket on an injected clock. `take` reserves a token synchronously (the count may go
 * negative: a queue of reservations), then waits until that token has been refilled, so concurrent
 * callers are served in call order without a lock and never above the rate.
 *
 * `capacity` is the burst: how many calls may go at once after a quiet spell. The IM client uses 1,
 * spacing calls evenly (1/rate apart), so no window of a second ever sees more than the rate plus one,
 * whatever window Tencent counts in.
 */
export class TokenBucket {
  readonly #perMs: number;
  readonly #capacity: number;
  readonly #clock: Clock;
  #tokens: number;
  #updatedAt: number;

  constructor(ratePerSecond: number, clock: Clock, capacity = 1) {
    if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) {
      throw new RangeError(`rate must be a positive number of calls per second, got ${ratePerSecond}`);
    }
    if (!(capacity >= 1)) throw new RangeError(`capacity must be at least 1, got ${capacity}`);
    this.#perMs = ratePerSecond / 1000;
    this.#capacity = capacity;
    this.#clock = clock;
    this.#tokens = capacity;
    this.#updatedAt = clock.now();
  }

  /** Resolves when the caller may make one call; rejects with the signal's reason if it aborts first. */
  async take(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const now = this.#clock.now();
    const elapsed = Math.max(0, now - this.#updatedAt);
    this.#tokens = Math.min(this.#capacity, this.#tokens + elapsed * this.#perMs);
    this.#updatedAt = now;
    this.#tokens -= 1;
    // A hair below zero is rounding, not a debt worth a 1 ms sleep.
    if (this.#tokens > -1e-9) return;
    const waitMs = Math.ceil(-this.#tokens / this.#perMs);
    try {
      await this.#clock.sleep(waitMs, signal);
    } catch (error) {
      this.#tokens += 1; // give the reservation back: an aborted caller never calls
      throw error;
    }
  }
}
