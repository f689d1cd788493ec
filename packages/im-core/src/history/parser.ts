/**
 * Streaming reader for Tencent IM history files (get_history §3.11): a header line ending in
 * `"MsgList":[`, one message object a line (each but the last followed by `,`), then a `]}` line.
 *
 * Lines are cut on the raw bytes (0x0A never occurs inside a multi-byte UTF-8 character), so a chunk
 * boundary anywhere — even inside a character — is harmless, and only the one line that straddles a
 * boundary is ever copied. Memory is bounded by the longest line, never by the file.
 */
import { isUtf8 } from "node:buffer";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { HistoryFormatError } from "../errors.ts";
import type { HistoryEvent, HistoryHeader, HistoryMessage, HistorySummary } from "./types.ts";

export type { HistoryEvent, HistoryHeader, HistoryMessage, HistorySummary, MsgElem } from "./types.ts";

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const COMMA = 0x2c;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;

const HEADER_END = /"MsgList"\s*:\s*\[$/;

/** Tencent caps a message at a few KiB; a line this long means the framing is gone. */
export const DEFAULT_MAX_LINE_BYTES = 8 * 1024 * 1024;

export interface HistoryParserOptions {
  /** Longest line accepted, in bytes, so a file without newlines cannot fill memory. Default 8 MiB. */
  maxLineBytes?: number;
  /**
   * Takes each message line as bytes instead of parsing it (no "message" events are returned then):
   * see {@link MessageBytesSink}. An object, not a function: its method is the same function for
   * every file, which V8 optimizes once.
   */
  messageBytes?: MessageBytesSink;
}

export interface MessageBytesSink {
  /**
   * One message: `buf[start..end)` without its blanks and comma, `utf8` whether those bytes are
   * valid UTF-8. Must check the message as the parser would (valid JSON, an object, MsgBody an
   * array) and throw HistoryFormatError naming `line` if not (MessageScanner does). The bytes are
   * valid only during the call.
   */
  add(buf: Buffer, start: number, end: number, line: number, utf8: boolean): void;
}

function isBlank(b: number | undefined): boolean {
  return b === SPACE || b === TAB || b === CR;
}

/**
 * The push parser behind {@link readHistory}: feed it plain (decompressed) bytes in any chunking with
 * `push`, then call `end`. Use it directly when the bytes already flow through a `data` handler (e.g.
 * next to an MD5 of the plain stream). Throws HistoryFormatError on the first problem; after a throw
 * the instance is spent.
 */
export class HistoryParser {
  /** Complete lines consumed so far (the next line is `#line + 1`). */
  #line = 0;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  readonly #maxLineBytes: number;
  readonly #messageBytes: MessageBytesSink | undefined;
  /** messageBytes mode: the complete lines of the chunk being pushed are all valid UTF-8. */
  #chunkUtf8 = true;
  #state: "header" | "messages" | "done" = "header";
  #header: HistoryHeader | undefined;
  /** null until the first message; then whether the latest message line ended with a comma. */
  #lastHadComma: boolean | null = null;
  #lastMessageLine = 0;
  #messageCount = 0;
  #closingLine = 0;

  constructor(options: HistoryParserOptions = {}) {
    this.#maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.#messageBytes = options.messageBytes;
  }

  /** Complete lines consumed so far, for callers that report where a stream broke off. */
  get linesSeen(): number {
    return this.#line;
  }

  /**
   * Consumes one chunk and returns the events its complete lines produced (often none). Byte chunks
   * may split anywhere; string chunks must hold whole characters (they are re-encoded as UTF-8).
   */
  push(chunk: Uint8Array | string): HistoryEvent[] {
    const buf =
      typeof chunk === "string"
        ? Buffer.from(chunk, "utf8")
        : Buffer.isBuffer(chunk)
          ? chunk
          : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const out: HistoryEvent[] = [];
    let pos = 0;
    if (this.#messageBytes !== undefined) {
      // One check for all the chunk's whole lines (a line's bytes end at a 0x0A, which is never part
      // of a multi-byte character); the line completed from earlier chunks is checked on its own.
      const first = this.#pending.length > 0 ? buf.indexOf(LF) + 1 : 0;
      const last = buf.lastIndexOf(LF);
      this.#chunkUtf8 = last < first || isUtf8(buf.subarray(first, last));
    }
    while (pos < buf.length) {
      if (this.#state === "done") {
        this.#checkTail(buf, pos);
        return out;
      }
      const nl = buf.indexOf(LF, pos);
      if (nl === -1) {
        this.#pending.push(buf.subarray(pos));
        this.#pendingBytes += buf.length - pos;
        this.#checkLength(this.#pendingBytes);
        break;
      }
      this.#line++;
      if (this.#pending.length === 0) {
        this.#checkLength(nl - pos);
        this.#onLine(buf, pos, nl, out);
      } else {
        this.#pending.push(buf.subarray(pos, nl));
        const line = Buffer.concat(this.#pending, this.#pendingBytes + nl - pos);
        this.#pending = [];
        this.#pendingBytes = 0;
        this.#checkLength(line.length);
        this.#onLine(line, 0, line.length, out, this.#messageBytes === undefined || isUtf8(line));
      }
      pos = nl + 1;
    }
    return out;
  }

  /** Call when the input is exhausted; throws unless the file was complete. */
  end(): HistorySummary {
    if (this.#pending.length > 0) {
      const rest = Buffer.concat(this.#pending, this.#pendingBytes);
      this.#pending = [];
      this.#pendingBytes = 0;
      const lineNo = this.#line + 1;
      // (After `]}` nothing is ever pending: push checks the tail byte by byte.)
      if (isClosing(rest)) {
        // `]}` without a final newline is complete.
        this.#line = lineNo;
        this.#onLine(rest, 0, rest.length, []);
      } else {
        throw new HistoryFormatError(lineNo, "truncated: the input ends in the middle of a line");
      }
    }
    if (this.#state === "header") {
      throw new HistoryFormatError(this.#line + 1, "truncated: no header line");
    }
    if (this.#state === "messages") {
      throw new HistoryFormatError(this.#line + 1, "truncated: the closing ']}' line is missing");
    }
    return { header: this.#header!, messageCount: this.#messageCount, lines: this.#closingLine };
  }

  #onLine(buf: Buffer, start: number, end: number, out: HistoryEvent[], utf8 = this.#chunkUtf8): void {
    while (start < end && isBlank(buf[start])) start++;
    while (end > start && isBlank(buf[end - 1])) end--;
    const lineNo = this.#line;
    if (this.#state === "header") {
      // Tolerate a UTF-8 byte order mark before the header.
      if (end - start >= 3 && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf) {
        start += 3;
      }
      const header = parseHeader(buf.toString("utf8", start, end), lineNo);
      this.#header = header;
      this.#state = "messages";
      out.push({ kind: "header", header });
      return;
    }
    if (this.#state === "done") {
      if (end > start) throw new HistoryFormatError(lineNo, "content after the closing ']}' line");
      return;
    }
    if (end - start === 2 && buf[start] === CLOSE_BRACKET && buf[start + 1] === CLOSE_BRACE) {
      if (this.#lastHadComma === true) {
        throw new HistoryFormatError(this.#lastMessageLine, "the last message is followed by a comma");
      }
      this.#state = "done";
      this.#closingLine = lineNo;
      return;
    }
    const hasComma = end > start && buf[end - 1] === COMMA;
    if (hasComma) end--;
    if (end === start) {
      throw new HistoryFormatError(lineNo, hasComma ? "a comma with no message" : "empty line");
    }
    const sink = this.#messageBytes;
    let raw: string | undefined;
    let message: HistoryMessage | undefined;
    if (sink !== undefined) {
      // A chunk that is not all valid UTF-8: each of its lines is checked on its own.
      sink.add(buf, start, end, lineNo, utf8 || isUtf8(buf.subarray(start, end)));
    } else {
      raw = buf.toString("utf8", start, end);
      message = parseMessage(raw, lineNo);
    }
    // Checked after parsing so that a broken line is blamed on itself, not on its predecessor.
    if (this.#lastHadComma === false) {
      throw new HistoryFormatError(
        this.#lastMessageLine,
        `message is not followed by a comma, yet line ${lineNo} is another message`,
      );
    }
    this.#lastHadComma = hasComma;
    this.#lastMessageLine = lineNo;
    this.#messageCount++;
    if (message === undefined || raw === undefined) return;
    out.push({ kind: "message", message, line: lineNo, raw, rawBytes: buf.subarray(start, end) });
  }

  #checkLength(bytes: number): void {
    if (bytes > this.#maxLineBytes) {
      const lineNo = this.#pending.length > 0 ? this.#line + 1 : this.#line;
      throw new HistoryFormatError(lineNo, `line longer than ${this.#maxLineBytes} bytes`);
    }
  }

  /** After `]}` only whitespace may follow; count lines so an error names the right one. */
  #checkTail(buf: Buffer, pos: number): void {
    for (let i = pos; i < buf.length; i++) {
      const b = buf[i];
      if (b === LF) this.#line++;
      else if (!isBlank(b)) {
        throw new HistoryFormatError(this.#line + 1, "content after the closing ']}' line");
      }
    }
  }
}

function parseMessage(raw: string, lineNo: number): HistoryMessage {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    // No cause: V8's message quotes the line, and chat text does not belong in logs.
    throw new HistoryFormatError(lineNo, "not valid JSON");
  }
  if (!isObject(value)) throw new HistoryFormatError(lineNo, "a message must be a JSON object");
  if (value.MsgBody !== undefined && !Array.isArray(value.MsgBody)) {
    throw new HistoryFormatError(lineNo, "MsgBody must be an array");
  }
  return value as HistoryMessage;
}

function isClosing(line: Buffer): boolean {
  let start = 0;
  let end = line.length;
  while (start < end && isBlank(line[start])) start++;
  while (end > start && isBlank(line[end - 1])) end--;
  return end - start === 2 && line[start] === CLOSE_BRACKET && line[start + 1] === CLOSE_BRACE;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function parseHeader(text: string, lineNo: number): HistoryHeader {
  if (!HEADER_END.test(text)) {
    throw new HistoryFormatError(lineNo, `malformed header: it must end with '"MsgList":['`);
  }
  let value: unknown;
  try {
    value = JSON.parse(`${text}]}`);
  } catch {
    throw new HistoryFormatError(lineNo, "malformed header: not valid JSON");
  }
  if (!isObject(value) || !Array.isArray(value.MsgList) || value.MsgList.length !== 0) {
    throw new HistoryFormatError(lineNo, "malformed header: not an object opening an empty MsgList");
  }
  if (typeof value.SdkAppId !== "number") {
    throw new HistoryFormatError(lineNo, "malformed header: SdkAppId is not a number");
  }
  if (typeof value.ChatType !== "string") {
    throw new HistoryFormatError(lineNo, "malformed header: ChatType is not a string");
  }
  if (typeof value.MsgTime !== "string") {
    throw new HistoryFormatError(lineNo, "malformed header: MsgTime is not a string");
  }
  const { MsgList: _list, ...header } = value;
  return header as HistoryHeader;
}

/**
 * Reads a plain (already gunzipped) history file, yielding the header and then each message in file
 * order. Returns the summary once the closing `]}` line has been seen and nothing but whitespace
 * follows; throws HistoryFormatError (1-based `line`) otherwise. Stopping early is fine.
 */
export async function* readHistory(
  plain: AsyncIterable<Uint8Array | string>,
  options: HistoryParserOptions = {},
): AsyncGenerator<HistoryEvent, HistorySummary, undefined> {
  const parser = new HistoryParser(options);
  for await (const chunk of plain) {
    const events = parser.push(chunk);
    for (let i = 0; i < events.length; i++) yield events[i]!;
  }
  return parser.end();
}

/** Output chunk of the gunzip stream: bigger than zlib's 16 KiB default, fewer hops per file. */
const GUNZIP_CHUNK = 64 * 1024;

/**
 * {@link readHistory} over GZip bytes: a stream, an async iterable of chunks, or the whole file in
 * memory. Gunzips with node:zlib as it goes. A corrupt or truncated GZip stream becomes a
 * HistoryFormatError naming the line it broke off in; errors of the source itself pass through.
 */
export async function* readGzipHistory(
  gz: Readable | AsyncIterable<Uint8Array> | Uint8Array,
  options: HistoryParserOptions = {},
): AsyncGenerator<HistoryEvent, HistorySummary, undefined> {
  const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK });
  const source = gz instanceof Uint8Array ? [gz] : gz;
  const piping = pipeline(source, gunzip);
  // Consumed below or, when the caller stops early, deliberately dropped: never unhandled.
  piping.catch(() => {});
  const parser = new HistoryParser(options);
  try {
    for await (const chunk of gunzip) {
      const events = parser.push(chunk as Buffer);
      for (let i = 0; i < events.length; i++) yield events[i]!;
    }
    await piping;
  } catch (err) {
    if (isZlibError(err)) {
      const line = parser.linesSeen + 1;
      throw new HistoryFormatError(line, `corrupt GZip data (${(err as NodeJS.ErrnoException).code})`);
    }
    throw err;
  } finally {
    gunzip.destroy();
  }
  return parser.end();
}

function isZlibError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("Z_");
}
