/**
 * When the dev scheduler runs: like the EventBridge schedule in AWS, hourly at minute 5. Beijing
 * time is UTC+8 with no daylight saving, so minute 5 of a Beijing hour is minute 5 of a UTC hour.
 */
const HOUR_MS = 3_600_000;
export const SCHEDULE_MINUTE = 5;

/** The first instant strictly after `nowMs` at minute 5, second 0 of an hour. */
export function nextScheduleRun(nowMs: number, minute = SCHEDULE_MINUTE): number {
  const hourStart = Math.floor(nowMs / HOUR_MS) * HOUR_MS;
  const candidate = hourStart + minute * 60_000;
  return candidate > nowMs ? candidate : candidate + HOUR_MS;
}

/**
 * Calls `run` at each scheduled instant until stopped. A run still going when the next is due is not
 * doubled: the next waits for it.
 */
export function startScheduleTimer(
  run: () => Promise<void>,
  options: { now?: () => number; minute?: number } = {},
): { stop(): Promise<void> } {
  const now = options.now ?? Date.now;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  const arm = () => {
    if (stopped) return;
    const delay = Math.max(0, nextScheduleRun(now(), options.minute) - now());
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
