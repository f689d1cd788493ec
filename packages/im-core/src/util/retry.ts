import { type Clock, systemClock } from "./clock.ts";

/** How long to wait after try `attempt` (1-based) failed with `error`; undefined: do not try again. */
export type RetryDelay = (attempt: number, error: unknown) => number | undefined;

export interface RetryOptions {
  /** Tries in all, the first included: a positive integer. */
  attempts: number;
  /** The wait before the next try; it may also refuse one (undefined), e.g. a wait allowed only once. */
  delay: RetryDelay;
  /** Whether a failure is worth another try; default: every failure. */
  isRetryable?: (error: unknown) => boolean;
  /** Waits on this clock (tests pass a fake one); default the system clock. */
  clock?: Pick<Clock, "sleep">;
  /** Aborting ends the wait and stops any further try: the rejection is the signal's reason. */
  signal?: AbortSignal;
  /** Told before each wait: the try that failed, its error and the wait that follows. */
  onRetry?: (event: { attempt: number; error: unknown; delayMs: number }) => void;
}

/**
 * Runs `fn` until it resolves, trying again after a failure that `isRetryable` accepts, up to
 * `attempts` tries, waiting `delay(attempt, error)` before each next one. Rejects with the last error
 * unchanged (so a caller tells "gave up" from "not retryable" with its own `isRetryable`), or with the
 * signal's reason once it aborts. A failure that ends while the signal is aborted is not retried.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { attempts, signal } = options;
  if (!Number.isSafeInteger(attempts) || attempts < 1) {
    throw new RangeError(`attempts must be a positive integer, got ${attempts}`);
  }
  const clock = options.clock ?? systemClock;
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (error) {
      if (signal?.aborted || attempt >= attempts) throw error;
      if (options.isRetryable !== undefined && !options.isRetryable(error)) throw error;
      const delayMs = options.delay(attempt, error);
      if (delayMs === undefined) throw error;
      options.onRetry?.({ attempt, error, delayMs });
      await clock.sleep(delayMs, signal);
    }
  }
}

export interface BackoffPolicy {
  /** The ceiling of the first wait; each later one doubles it. */
  baseMs: number;
  /** No ceiling grows past this; default unbounded. */
  maxMs?: number;
  /** Waited in full before the random part; default 0. */
  minMs?: number;
  /** Uniform in [0, 1); default Math.random. */
  random?: () => number;
}

/**
 * Exponential backoff with full jitter: after try n (1-based) the wait is `minMs` plus a uniformly
 * random time in [0, min(maxMs, baseMs · 2^(n-1))). Full jitter spreads the retries of many callers
 * that failed together (a rate limit, an outage) instead of sending them back in lockstep; `minMs`
 * keeps every retry out of a window that has to pass first (a rate limit's second).
 */
export function fullJitterBackoff(policy: BackoffPolicy): (attempt: number) => number {
  const { baseMs, maxMs = Number.POSITIVE_INFINITY, minMs = 0, random = Math.random } = policy;
  return (attempt) => minMs + Math.floor(random() * Math.min(maxMs, baseMs * 2 ** (attempt - 1)));
}

/** Exponential backoff without jitter: after try n (1-based), min(maxMs, baseMs · 2^(n-1)). */
export function exponentialBackoff(
  policy: Omit<BackoffPolicy, "random" | "minMs">,
): (attempt: number) => number {
  const { baseMs, maxMs = Number.POSITIVE_INFINITY } = policy;
  return (attempt) => Math.min(maxMs, baseMs * 2 ** (attempt - 1));
}
