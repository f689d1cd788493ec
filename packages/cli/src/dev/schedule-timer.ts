/**
 * When the dev scheduler runs, besides at start-up: right after each hour turns, so the hour that just
 * ended is archived within seconds (the bundled simulator produces an hour's files as soon as it
 * ends; a README walkthrough asking for "the last ended hour" never meets a 404 early in an hour),
 * and again at minute 5 like the EventBridge schedule in AWS (real Tencent produces files later; an
 * hour not ready is simply pending and planned again by the next run). Beijing time is UTC+8 with no
 * daylight saving, so these instants of a Beijing hour are the same of a UTC hour.
 */
const HOUR_MS = 3_600_000;
/** Offsets into each hour: second 2 (clear of the turn itself), and minute 5. */
export const SCHEDULE_OFFSETS_MS: readonly number[] = [2_000, 5 * 60_000];

/** The first instant strictly after `nowMs` at one of `offsetsMs` (ascending) into an hour. */
export function nextScheduleRun(nowMs: number, offsetsMs: readonly number[] = SCHEDULE_OFFSETS_MS): number {
  const hourStart = Math.floor(nowMs / HOUR_MS) * HOUR_MS;
  const later = offsetsMs.find((offset) => hourStart + offset > nowMs);
  return later === undefined ? hourStart + HOUR_MS + offsetsMs[0]! : hourStart + later;
}

/**
 * Calls `run` at each scheduled instant until stopped. A run still going when the next is due is not
 * doubled: the next waits for it.
 */
export function startScheduleTimer(
  run: () => Promise<void>,
  options: { now?: () => number; offsetsMs?: readonly number[] } = {},
): { stop(): Promise<void> } {
  const now = options.now ?? Date.now;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  const arm = () => {
    if (stopped) return;
    const delay = Math.max(0, nextScheduleRun(now(), options.offsetsMs) - now());
    timer = setTimeout(() => {
      current = run().finally(arm);
    }, delay);
  };
  arm();
  return {
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await current.catch(() => {});
    },
  };
}
