import {
  addHours,
  CHAT_TYPES,
  type ChatType,
  hourEnd,
  hourOf,
  hourRange,
  hourStart,
  LIMITS,
  type MsgTime,
  parseChatType,
  parseMsgTime,
  ValidationError,
} from "@imvault/im-core";
import { InvalidArgumentError } from "commander";

/** Option parsers for commander: each throws InvalidArgumentError, which commander reports as usage. */

export function msgTimeArg(value: string): MsgTime {
  try {
    return parseMsgTime(value);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
}

/** C2C or Group in any letter case, as the API's path parameter takes it (im-core's parseChatType). */
export function chatTypeArg(value: string): ChatType {
  try {
    return parseChatType(value);
  } catch {
    throw new InvalidArgumentError(`must be one of ${CHAT_TYPES.join(", ")} (any letter case)`);
  }
}

export function positiveIntArg(max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1 || n > max) {
      throw new InvalidArgumentError(`must be a whole number from 1 to ${max}`);
    }
    return n;
  };
}

/**
 * The archive window: given ends, or the scheduler's default; `from` alone runs to the default end,
 * `to` alone covers the lookback ending there.
 */
export function resolveWindow(
  given: { from?: MsgTime; to?: MsgTime },
  fallback: { from: MsgTime; to: MsgTime },
): { from: MsgTime; to: MsgTime } {
  const to = given.to ?? fallback.to;
  const from = given.from ?? (given.to === undefined ? fallback.from : shiftLike(fallback, to));
  if (hourStart(from) > hourStart(to)) {
    throw new ValidationError(
      given.to === undefined
        ? `--from ${from} is after the default --to, ${to} (give --to)`
        : `--from ${from} is after --to ${to}`,
    );
  }
  const hours = (hourStart(to) - hourStart(from)) / 3_600_000 + 1;
  if (hours > LIMITS.maxWindowHours) {
    throw new ValidationError(
      `the window ${from}..${to} spans ${hours} hours; at most ${LIMITS.maxWindowHours}`,
    );
  }
  return { from, to };
}

/** The start of a window as long as `fallback` that ends at `to`. */
function shiftLike(fallback: { from: MsgTime; to: MsgTime }, to: MsgTime): MsgTime {
  return addHours(to, -(hourStart(fallback.to) - hourStart(fallback.from)) / 3_600_000);
}

const DAY_MS = 86_400_000;

/**
 * Refuses (ValidationError: exit 2) a window Tencent cannot serve: one reaching an hour that has not
 * ended (its files cannot exist yet), or one whose every hour ended more than `retentionDays` ago
 * (each would be recorded `expired`, for good). A window only partly past the retention is archived
 * with a warning. `imvault archive --force` skips the check.
 */
export function checkWindowReachable(
  window: { from: MsgTime; to: MsgTime },
  nowMs: number,
  retentionDays: number,
): { warning?: string } {
  refuseUnended(window, nowMs, "end the window there, or add --force to ask Tencent anyway");
  const gone = endedBefore(nowMs, retentionDays);
  const retention = `Tencent's retention (${retentionDays} days, IM_RETENTION_DAYS)`;
  if (gone(window.to)) {
    throw new ValidationError(
      `every hour of ${window.from}..${window.to} is older than ${retention}: each would be recorded expired, for good; add --force to ask Tencent anyway`,
      { from: window.from, to: window.to, retentionDays },
    );
  }
  const old = hourRange(window.from, window.to).filter(gone).length;
  return old === 0
    ? {}
    : {
        warning: `${old} hour(s) of the window are older than ${retention}: expect them to be recorded expired`,
      };
}

/**
 * `imvault media`'s window: refused (exit 2) when it reaches an hour that has not ended (neither its
 * history nor its media can be archived yet); a warning when hours of it ended longer ago than Tencent
 * keeps media (IM_MEDIA_RETENTION_DAYS): what an archived hour of those never captured will be
 * recorded missing.
 */
export function checkMediaWindow(
  window: { from: MsgTime; to: MsgTime },
  nowMs: number,
  retentionDays: number,
): { warning?: string } {
  refuseUnended(window, nowMs, "end the window there");
  const old = hourRange(window.from, window.to).filter(endedBefore(nowMs, retentionDays)).length;
  return old === 0
    ? {}
    : {
        warning: `${old} hour(s) of the window are older than Tencent keeps media (${retentionDays} days, IM_MEDIA_RETENTION_DAYS): media of them not captured before will be recorded missing`,
      };
}

/** Whether an hour ended `days` days or more before `nowMs`: past a retention of that many days. */
function endedBefore(nowMs: number, days: number): (h: MsgTime) => boolean {
  return (h) => hourEnd(h) + days * DAY_MS <= nowMs;
}

/** Refuses (ValidationError: exit 2) a window reaching an hour that has not ended: nothing of it exists yet. */
function refuseUnended(window: { to: MsgTime }, nowMs: number, remedy: string): void {
  if (hourEnd(window.to) <= nowMs) return;
  const lastEnded = addHours(hourOf(nowMs), -1);
  throw new ValidationError(
    `hour ${window.to} (Beijing) has not ended yet: Tencent produces an hour's files after it ends, and the last ended hour is ${lastEnded}; ${remedy}`,
    { to: window.to, lastEnded },
  );
}
