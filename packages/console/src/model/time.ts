/**
 * Time as the console shows it. Tencent's hours (MsgTime `YYYYMMDDHH`) are Beijing time (UTC+8, no
 * daylight saving); the console shows instants in the viewer's zone and in Beijing time. Pure code:
 * it runs in the browser and in the unit tests.
 */

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
const BEIJING_OFFSET_MS = 8 * HOUR_MS;
export const BEIJING_ZONE = "Asia/Shanghai";

const MSG_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})$/;

/** The instant a Beijing hour starts. */
export function hourStartMs(msgTime: string): number {
  const m = MSG_TIME.exec(msgTime);
  if (m === null) throw new RangeError(`not a Beijing hour YYYYMMDDHH: ${msgTime}`);
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4])) - BEIJING_OFFSET_MS;
}

export function hourEndMs(msgTime: string): number {
  return hourStartMs(msgTime) + HOUR_MS;
}

/** The Beijing hour holding `ms`. */
export function msgTimeAt(ms: number): string {
  const d = new Date(ms + BEIJING_OFFSET_MS);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}`;
}

/** `YYYY-MM-DD` (Beijing date) and the hour 0–23 of a MsgTime. */
export function splitMsgTime(msgTime: string): { date: string; hour: number } {
  return {
    date: `${msgTime.slice(0, 4)}-${msgTime.slice(4, 6)}-${msgTime.slice(6, 8)}`,
    hour: Number(msgTime.slice(8, 10)),
  };
}

/** `2025-01-31 13:00` Beijing, as people write it. */
export function describeMsgTime(msgTime: string): string {
  const { date, hour } = splitMsgTime(msgTime);
  return `${date} ${String(hour).padStart(2, "0")}:00`;
}

/** "2 d 5 h", "3 h 20 min", "45 s": a coarse duration, the two largest units. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const min = Math.floor((s % 3600) / 60);
  if (d > 0) return h > 0 ? `${d} d ${h} h` : `${d} d`;
  if (h > 0) return min > 0 ? `${h} h ${min} min` : `${h} h`;
  if (min > 0) return `${min} min`;
  return `${s} s`;
}

/** An instant in one zone: `2025-01-31 13:05` (24-hour clock), and the zone's short name. */
export function formatInZone(ms: number, timeZone: string | undefined, seconds = false): string {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    ...(seconds ? { second: "2-digit" as const } : {}),
    hourCycle: "h23",
    timeZoneName: "short",
  }).formatToParts(new Date(ms));
  const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? "";
  const time = `${get("hour")}:${get("minute")}${seconds ? `:${get("second")}` : ""}`;
  const zone = timeZone === BEIJING_ZONE ? "Beijing" : get("timeZoneName");
  return `${get("year")}-${get("month")}-${get("day")} ${time} ${zone}`.trim();
}

/** Bytes for people: 1.2 MB (powers of 1000, like the CLI's table). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
