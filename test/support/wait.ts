/** Polls `check` until it answers something other than undefined; fails naming `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  check: () => T | undefined | Promise<T | undefined>,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Waits past the next turn of the hour when it is less than `marginMs` away, so that a test whose
 * hours are relative to "now" keeps them for at least `marginMs`.
 */
export async function clearOfHourTurn(marginMs: number): Promise<void> {
  const toNextHour = 3_600_000 - (Date.now() % 3_600_000);
  if (toNextHour < marginMs) await new Promise((r) => setTimeout(r, toNextHour + 1_000));
}
