/**
 * Tencent's REST frequency limit: at most `perSecond` calls per app and command in each wall-clock
 * second (a fixed window on the simulator's clock, so tests can step it). Refused calls do not count.
 */
export class RateLimiter {
  readonly #perSecond: number;
  readonly #windows = new Map<string, { second: number; count: number }>();

  constructor(perSecond: number) {
    this.#perSecond = perSecond;
  }

  /** Counts a call and says whether it is within the limit. */
  take(key: string, nowMs: number): boolean {
    const second = Math.floor(nowMs / 1000);
    let w = this.#windows.get(key);
    if (w === undefined || w.second !== second) {
      w = { second, count: 0 };
      this.#windows.set(key, w);
    }
    if (w.count >= this.#perSecond) return false;
    w.count++;
    return true;
  }
}
