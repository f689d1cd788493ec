/**
 * One message line → one row of the table's Parquet writer, from the line's bytes: MessageScanner
 * finds the fields, and their bytes go into the columns as they are (no message object, no row
 * object, no strings but the rare escaped value). The row is the one `messageRow` defines
 * (rows.ts), which the tests hold this to.
 */
import { MessageScanner, type Span, type Spans } from "../history/message-scan.ts";
import type { MessageBytesSink } from "../history/parser.ts";
import { type ColumnBuffer, copyBytes } from "./parquet-columns.ts";
import type { ParquetWriter } from "./parquet-writer.ts";
import {
  c2cConversation,
  type FileRowFields,
  MESSAGE_COLUMNS,
  type MessageColumn,
  tsMillis,
} from "./rows.ts";

const NEWLINE = 0x0a;
const BAR = 0x7c;

export class MessageRowWriter implements MessageBytesSink {
  readonly #writer: ParquetWriter;
  readonly #file: FileRowFields;
  readonly #group: boolean;
  readonly #scanner = new MessageScanner();
  /** A value made of several (conversation, joined texts), built here before it is added. */
  #scratch = Buffer.allocUnsafe(4096);
  readonly #chatType: ColumnBuffer;
  readonly #msgTime: ColumnBuffer;
  readonly #dt: ColumnBuffer;
  readonly #hour: ColumnBuffer;
  readonly #msgTimestamp: ColumnBuffer;
  readonly #ts: ColumnBuffer;
  readonly #from: ColumnBuffer;
  readonly #to: ColumnBuffer;
  readonly #groupId: ColumnBuffer;
  readonly #conversation: ColumnBuffer;
  readonly #seq: ColumnBuffer;
  readonly #random: ColumnBuffer;
  readonly #types: ColumnBuffer;
  readonly #text: ColumnBuffer;
  readonly #media: ColumnBuffer;
  readonly #raw: ColumnBuffer;
  readonly #sourceKey: ColumnBuffer;
  readonly #line: ColumnBuffer;

  /** `writer` has the table's columns (MESSAGE_SCHEMA), in MESSAGE_COLUMNS order. */
  constructor(writer: ParquetWriter, file: FileRowFields) {
    this.#writer = writer;
    this.#file = file;
    this.#group = file.chat_type === "Group";
    const col = (name: MessageColumn) => writer.columns[MESSAGE_COLUMNS.indexOf(name)]!;
    this.#chatType = col("chat_type");
    this.#msgTime = col("msg_time");
    this.#dt = col("dt");
    this.#hour = col("hour");
    this.#msgTimestamp = col("msg_timestamp");
    this.#ts = col("ts");
    this.#from = col("from_account");
    this.#to = col("to_account");
    this.#groupId = col("group_id");
    this.#conversation = col("conversation");
    this.#seq = col("msg_seq");
    this.#random = col("msg_random");
    this.#types = col("msg_types");
    this.#text = col("text");
    this.#media = col("media_urls");
    this.#raw = col("raw");
    this.#sourceKey = col("source_key");
    this.#line = col("line");
  }

  /**
   * The row of the message `buf[start..end)` at `line` (HistoryParser's messageBytes). Bytes that
   * are not valid UTF-8 are read as JSON.parse reads their string: each bad sequence as U+FFFD.
   */
  add(buf: Buffer, start: number, end: number, line: number, utf8: boolean): void {
    if (!utf8) {
      buf = Buffer.from(buf.toString("utf8", start, end), "utf8");
      start = 0;
      end = buf.length;
    }
    const m = this.#scanner.scan(buf, start, end, line);
    const file = this.#file;
    this.#chatType.addConstant(file.chat_type);
    this.#msgTime.addConstant(file.msg_time);
    this.#dt.addConstant(file.dt);
    this.#hour.addConstant(file.hour);
    this.#msgTimestamp.addInt64(m.msgTimestamp);
    this.#ts.addInt64(tsMillis(m.msgTimestamp));
    addSpan(this.#from, m.from);
    addSpan(this.#to, m.to);
    addSpan(this.#groupId, m.group);
    if (this.#group) addSpan(this.#conversation, m.group);
    else this.#addConversation(m.from, m.to);
    this.#seq.addInt64(m.msgSeq);
    this.#random.addInt64(m.msgRandom);
    this.#types.addUtf8List(m.types);
    this.#addText(m.texts);
    this.#media.addUtf8List(m.media);
    this.#raw.addUtf8(buf, start, end);
    this.#sourceKey.addConstant(file.source_key);
    this.#line.addInt64(line);
    this.#writer.endRow();
  }

  /** Both accounts in code-unit order joined with `|` (c2cConversation), or null without both. */
  #addConversation(a: Span, b: Span): void {
    if (!a.present || !b.present) {
      this.#conversation.addNull();
      return;
    }
    const aLength = a.end - a.start;
    const bLength = b.end - b.start;
    if (!ascii(a) || !ascii(b)) {
      // UTF-8's byte order is not UTF-16's code-unit order for every character: compare strings.
      const joined = Buffer.from(c2cConversation(a.toString(), b.toString()), "utf8");
      this.#conversation.addUtf8(joined, 0, joined.length);
      return;
    }
    const aFirst = compareBytes(a, b) <= 0;
    const first = aFirst ? a : b;
    const second = aFirst ? b : a;
    const out = this.#room(aLength + bLength + 1);
    copyBytes(first.buf, first.start, first.end, out, 0);
    out[first.end - first.start] = BAR;
    copyBytes(second.buf, second.start, second.end, out, first.end - first.start + 1);
    this.#conversation.addUtf8(out, 0, aLength + bLength + 1);
  }

  /** The texts joined with newlines, or null when there are none. */
  #addText(texts: Spans): void {
    if (texts.length === 0) {
      this.#text.addNull();
      return;
    }
    if (texts.length === 1) {
      this.#text.addUtf8(texts.bufs[0]!, texts.starts[0]!, texts.ends[0]!);
      return;
    }
    let length = texts.length - 1;
    for (let i = 0; i < texts.length; i++) length += texts.ends[i]! - texts.starts[i]!;
    const out = this.#room(length);
    let at = 0;
    for (let i = 0; i < texts.length; i++) {
      if (i > 0) out[at++] = NEWLINE;
      at += copyBytes(texts.bufs[i]!, texts.starts[i]!, texts.ends[i]!, out, at);
    }
    this.#text.addUtf8(out, 0, at);
  }

  #room(bytes: number): Buffer {
    if (this.#scratch.length < bytes)
      this.#scratch = Buffer.allocUnsafe(Math.max(bytes, this.#scratch.length * 2));
    return this.#scratch;
  }
}

function addSpan(col: ColumnBuffer, s: Span): void {
  if (s.present) col.addUtf8(s.buf, s.start, s.end);
  else col.addNull();
}

function ascii(s: Span): boolean {
  const { buf, end } = s;
  for (let i = s.start; i < end; i++) if (buf[i]! >= 0x80) return false;
  return true;
}

/** Byte order of two spans (for ASCII, the same as code-unit order). */
function compareBytes(a: Span, b: Span): number {
  const n = Math.min(a.end - a.start, b.end - b.start);
  for (let i = 0; i < n; i++) {
    const d = a.buf[a.start + i]! - b.buf[b.start + i]!;
    if (d !== 0) return d;
  }
  return a.end - a.start - (b.end - b.start);
}
