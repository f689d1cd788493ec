/**
 * Exponential backoff with full jitter: the n-th retry (n = 0 for the first) waits a uniformly random
 * time in [0, min(maxDelayMs, baseDelayMs * 2^n)). Full jitter spreads retries of many callers that
 * failed together (a rate limit, an outage) instead of sending them back in lockstep.
 */
export function backoffDelay(
  retry: number,
  options: { baseDelayMs: number; maxDelayMs: number; random: () => number },
): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** retry);
  return Math.floor(options.random() * ceiling);
}
