import { ImApiError } from "../errors.ts";
import { fullJitterBackoff, type RetryDelay } from "../util/retry.ts";
import { RATE_LIMIT_CODES, RATE_LOCKED_CODE, RATE_LOCKED_WAIT_MS, RATE_WINDOW_MS } from "./codes.ts";

export interface ImBackoffOptions {
  /** Ceiling of the first transient wait, doubling after each try. */
  baseDelayMs: number;
  /** No ceiling grows past this (70050's minute excepted). */
  maxDelayMs: number;
  random: () => number;
}

/**
 * The IM client's waits between the tries of one call (a new policy per call: 70050 waits once):
 * - a rate limit (60007, 60011, 60018, 60019): one whole window (RATE_WINDOW_MS, Tencent counts calls
 *   per second) plus full jitter from a second up, so that callers refused together spread over the
 *   windows that follow instead of hitting the one that refused them;
 * - 70050 (bad sig, locked): a minute plus up to 10 %, once; a second one is not waited for;
 * - anything else retryable: full jitter from baseDelayMs up.
 */
export function imRetryDelay(options: ImBackoffOptions): RetryDelay {
  const { random } = options;
  const transient = fullJitterBackoff({ baseMs: options.baseDelayMs, maxMs: options.maxDelayMs, random });
  const rateLimited = fullJitterBackoff({
    minMs: RATE_WINDOW_MS,
    baseMs: RATE_WINDOW_MS,
    maxMs: Math.max(options.maxDelayMs, RATE_WINDOW_MS),
    random,
  });
  let lockWaited = false;
  return (attempt, error) => {
    const code = error instanceof ImApiError ? error.code : undefined;
    if (code === RATE_LOCKED_CODE) {
      if (lockWaited) return undefined;
      lockWaited = true;
      return RATE_LOCKED_WAIT_MS + Math.floor(random() * RATE_LOCKED_WAIT_MS * 0.1);
    }
    if (code !== undefined && RATE_LIMIT_CODES.has(code)) return rateLimited(attempt);
    return transient(attempt);
  };
}
