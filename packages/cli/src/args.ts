import {
  addHours,
  CHAT_TYPES,
  type ChatType,
  hourStart,
  LIMITS,
  type MsgTime,
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

export function chatTypeArg(value: string): ChatType {
  const match = CHAT_TYPES.find((c) => c.toLowerCase() === value.toLowerCase());
  if (match === undefined) throw new InvalidArgumentError(`must be one of ${CHAT_TYPES.join(", ")}`);
  return match;
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
    throw new ValidationError(`--from ${from} is after --to ${to}`);
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
