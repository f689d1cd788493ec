/**
 * One row of the message table (SPEC.md "Message table") per history message. The row is derived:
 * every column but `raw`, `source_key` and `line` is computed from the message, and `raw` keeps the
 * message's JSON text exactly as Tencent wrote it, so nothing (an unknown field, a new element type)
 * is ever lost by indexing, and the table can be rebuilt from the raw files at any time.
 */
import { mediaUrls } from "../history/media.ts";
import type { HistoryMessage } from "../history/types.ts";
import type { ChatType } from "../im/types.ts";
import { hourParts, type MsgTime } from "../time/msgtime.ts";

/** The table's columns, in order. */
export const MESSAGE_COLUMNS = [
  "chat_type",
  "msg_time",
  "dt",
  "hour",
  "msg_timestamp",
  "ts",
  "from_account",
  "to_account",
  "group_id",
  "conversation",
  "msg_seq",
  "msg_random",
  "msg_types",
  "text",
  "media_urls",
  "raw",
  "source_key",
  "line",
] as const;

export type MessageColumn = (typeof MESSAGE_COLUMNS)[number];

export interface MessageRow {
  chat_type: ChatType;
  /** The hour's MsgTime, YYYYMMDDHH, Beijing time. */
  msg_time: MsgTime;
  /** YYYY-MM-DD and HH of msg_time, the partition values of the file. */
  dt: string;
  hour: string;
  /** MsgTimestamp as Tencent sent it (Unix seconds), or null when it is not a whole number. */
  msg_timestamp: number | null;
  /** The same instant in epoch milliseconds (a UTC TIMESTAMP in the table); null outside years 1–9999. */
  ts: number | null;
  from_account: string | null;
  to_account: string | null;
  group_id: string | null;
  /** C2C: the two accounts in order, joined with `|`; Group: the group id. */
  conversation: string | null;
  msg_seq: number | null;
  msg_random: number | null;
  /** The MsgType of each MsgBody element, in order. */
  msg_types: string[];
  /** The texts of the TIMTextElem elements, joined with newlines; null when there are none. */
  text: string | null;
  /** The rich-media RawURLs of the message (history/media.ts), in MsgBody order. */
  media_urls: string[];
  /** The message's JSON text, exactly as in the file (the line without its trailing comma). */
  raw: string;
  /** Store key of the raw GZip file the message comes from. */
  source_key: string;
  /** 1-based line of the message in the plain file (the header is line 1). */
  line: number;
}

/** What every row of one raw file shares. */
export interface RowSource {
  chatType: ChatType;
  msgTime: MsgTime;
  sourceKey: string;
}

/** The row fields that depend on the file only, computed once per file. */
export interface FileRowFields {
  chat_type: ChatType;
  msg_time: MsgTime;
  dt: string;
  hour: string;
  source_key: string;
}

export function fileRowFields(source: RowSource): FileRowFields {
  const { dt, hour } = hourParts(source.msgTime);
  return { chat_type: source.chatType, msg_time: source.msgTime, dt, hour, source_key: source.sourceKey };
}

/**
 * The conversation key of a one-to-one chat: both accounts in code-unit order joined with `|`, the
 * same whichever of the two sent the message. Search uses this very function for `--peer`.
 */
export function c2cConversation(a: string, b: string): string {
  return a <= b ? `${a}|${b}` : `${b}|${a}`;
}

/**
 * The row of one message. `message` is `raw` parsed; `line` its line in the plain file. This is the
 * row's definition: indexing writes the same row from the message's bytes (MessageRowWriter, with
 * MessageScanner), and the tests hold it to this function.
 */
export function messageRow(
  file: FileRowFields,
  message: HistoryMessage,
  raw: string,
  line: number,
): MessageRow {
  const msgTimestamp = wholeNumber(message.MsgTimestamp);
  const from = stringOrNull(message.From_Account);
  const to = stringOrNull(message.To_Account);
  const group = stringOrNull(message.GroupId);
  let conversation: string | null;
  if (file.chat_type === "Group") conversation = group;
  else conversation = from !== null && to !== null ? c2cConversation(from, to) : null;

  const msgTypes: string[] = [];
  let text: string | null = null;
  const body: unknown = message.MsgBody;
  if (Array.isArray(body)) {
    for (const elem of body) {
      if (typeof elem !== "object" || elem === null) continue;
      const type = (elem as { MsgType?: unknown }).MsgType;
      if (typeof type !== "string") continue;
      msgTypes.push(type);
      if (type === "TIMTextElem") {
        const content = (elem as { MsgContent?: unknown }).MsgContent;
        const t =
          typeof content === "object" && content !== null ? (content as { Text?: unknown }).Text : undefined;
        if (typeof t === "string") text = text === null ? t : `${text}\n${t}`;
      }
    }
  }
  const media = mediaUrls(message);
  const urls: string[] = new Array(media.length);
  for (let i = 0; i < media.length; i++) urls[i] = media[i]!.url;

  return {
    chat_type: file.chat_type,
    msg_time: file.msg_time,
    dt: file.dt,
    hour: file.hour,
    msg_timestamp: msgTimestamp,
    ts: tsMillis(msgTimestamp),
    from_account: from,
    to_account: to,
    group_id: group,
    conversation,
    msg_seq: wholeNumber(message.MsgSeq),
    msg_random: wholeNumber(message.MsgRandom),
    msg_types: msgTypes,
    text,
    media_urls: urls,
    raw,
    source_key: file.source_key,
    line,
  };
}

function stringOrNull(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}

/** The UTC instants a `ts` holds: years 1 to 9999, the range every SQL engine reading the table accepts. */
const TS_SECONDS = { min: -62_135_596_800, max: 253_402_300_799 } as const;

/**
 * MsgTimestamp (Unix seconds) as `ts`'s epoch milliseconds, or null when it is not a whole number or
 * lies outside years 1 to 9999: one such value would make DuckDB refuse to read the whole file, so it
 * stays only in `msg_timestamp` and `raw`.
 */
export function tsMillis(seconds: number | null): number | null {
  return seconds === null || seconds < TS_SECONDS.min || seconds > TS_SECONDS.max ? null : seconds * 1000;
}

/** A whole number that fits a BIGINT exactly as JSON gave it; anything else stays only in `raw`. */
function wholeNumber(v: unknown): number | null {
  return typeof v === "number" && Number.isSafeInteger(v) ? v : null;
}
