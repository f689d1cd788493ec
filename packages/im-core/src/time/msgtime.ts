import { ValidationError } from "../errors.ts";

/**
 * Tencent's MsgTime: one hour as "YYYYMMDDHH" in Beijing time (UTC+8, no daylight saving).
 * Tencent's own example: MsgTime 2015120121 holds MsgTimestamp 1448974806 (2015-12-01 21:00:06 UTC+8).
 */
export type MsgTime = string;

const HOUR_MS = 3_600_000;
/** Beijing is UTC+8 all year: shifting an instant by 8 h lets the UTC getters read Beijing fields. */
const BEIJING_OFFSET_MS = 8 * HOUR_MS;

const MSG_TIME_RE = /^(\d{4})(\d{2})(\d{2})(\d{2})$/;
const BEIJING_TEXT_RE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** Epoch ms of a Beijing wall-clock time, after checking that the date and time exist. */
function beijingToEpoch(
  text: string,
  what: string,
  y: number,
  mo: number,
  d: number,
  h: number,
  mi = 0,
  s = 0,
): number {
  if (mo < 1 || mo > 12) throw new ValidationError(`${what} "${text}": month ${pad(mo)} is not 01-12`);
  // Day 0 of the next month is the last day of this one; setUTCFullYear keeps years < 100 literal.
  const monthEnd = new Date(0);
  monthEnd.setUTCFullYear(y, mo, 0);
  const daysInMonth = monthEnd.getUTCDate();
  if (d < 1 || d > daysInMonth) {
    throw new ValidationError(
      `${what} "${text}": day ${pad(d)} does not exist in ${pad(y, 4)}-${pad(mo)} (it has ${daysInMonth} days)`,
    );
  }
  if (h > 23) throw new ValidationError(`${what} "${text}": hour ${pad(h)} is not 00-23`);
  if (mi > 59) throw new ValidationError(`${what} "${text}": minute ${pad(mi)} is not 00-59`);
  if (s > 59) throw new ValidationError(`${what} "${text}": second ${pad(s)} is not 00-59`);
  const wall = new Date(0);
  wall.setUTCFullYear(y, mo - 1, d);
  wall.setUTCHours(h, mi, s, 0);
  return wall.getTime() - BEIJING_OFFSET_MS;
}

/** The Beijing wall-clock fields of an instant. */
function beijingFields(instantMs: number, what: string) {
  if (!Number.isFinite(instantMs)) throw new ValidationError(`${what}: ${instantMs} is not a finite instant`);
  const shifted = new Date(instantMs + BEIJING_OFFSET_MS);
  const year = shifted.getUTCFullYear();
  if (year < 0 || year > 9999) throw new ValidationError(`${what}: year ${year} has no 4-digit form`);
  return {
    y: pad(year, 4),
    mo: pad(shifted.getUTCMonth() + 1),
    d: pad(shifted.getUTCDate()),
    h: pad(shifted.getUTCHours()),
    mi: pad(shifted.getUTCMinutes()),
    s: pad(shifted.getUTCSeconds()),
  };
}

/** Checks that `text` is a MsgTime naming a real Beijing date and hour, and returns it. */
export function parseMsgTime(text: string): MsgTime {
  hourStart(text);
  return text;
}

export function isMsgTime(text: string): boolean {
  try {
    hourStart(text);
    return true;
  } catch {
    return false;
  }
}

/** The Beijing hour that contains the instant. */
export function hourOf(instantMs: number): MsgTime {
  const f = beijingFields(instantMs, "hourOf");
  return `${f.y}${f.mo}${f.d}${f.h}`;
}

/** The first millisecond of the hour (epoch ms). */
export function hourStart(msgTime: MsgTime): number {
  if (typeof msgTime !== "string")
    throw new ValidationError(`MsgTime must be a string, got ${typeof msgTime}`);
  const m = MSG_TIME_RE.exec(msgTime);
  if (m === null) {
    throw new ValidationError(`MsgTime "${msgTime}" is not 10 digits YYYYMMDDHH (Beijing time)`);
  }
  return beijingToEpoch(msgTime, "MsgTime", Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]));
}

/** The end of the hour, exclusive: the next hour's start. */
export function hourEnd(msgTime: MsgTime): number {
  return hourStart(msgTime) + HOUR_MS;
}

export function addHours(msgTime: MsgTime, n: number): MsgTime {
  if (!Number.isSafeInteger(n)) throw new ValidationError(`addHours: ${n} is not a whole number of hours`);
  return hourOf(hourStart(msgTime) + n * HOUR_MS);
}

/** Every hour from `from` to `to`, both inclusive. */
export function hourRange(from: MsgTime, to: MsgTime): MsgTime[] {
  const start = hourStart(from);
  const end = hourStart(to);
  if (start > end) throw new ValidationError(`hour range ${from}..${to}: the start is after the end`);
  const hours: MsgTime[] = [];
  for (let t = start; t <= end; t += HOUR_MS) hours.push(hourOf(t));
  return hours;
}

/** The storage layout's partition values: dt=YYYY-MM-DD, hour=HH. */
export function hourParts(msgTime: MsgTime): { dt: string; hour: string } {
  parseMsgTime(msgTime);
  return {
    dt: `${msgTime.slice(0, 4)}-${msgTime.slice(4, 6)}-${msgTime.slice(6, 8)}`,
    hour: msgTime.slice(8),
  };
}

/** "YYYY-MM-DD HH:mm:ss" in Beijing time (milliseconds dropped), the form of Tencent's ExpireTime. */
export function formatBeijing(instantMs: number): string {
  const f = beijingFields(instantMs, "formatBeijing");
  return `${f.y}-${f.mo}-${f.d} ${f.h}:${f.mi}:${f.s}`;
}

/** The instant of a "YYYY-MM-DD HH:mm:ss" Beijing time. */
export function parseBeijing(text: string): number {
  const m = typeof text === "string" ? BEIJING_TEXT_RE.exec(text) : null;
  if (m === null) throw new ValidationError(`Beijing time "${text}" is not "YYYY-MM-DD HH:mm:ss"`);
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return beijingToEpoch(text, "Beijing time", y, mo, d, h, mi, s);
}
