/** What MessageScanner finds in a message line: string values as UTF-8 byte ranges, reused. */

const EMPTY = Buffer.alloc(0);

/** One string value: UTF-8 bytes `buf[start..end)`; `str` is set when it was decoded from escapes. */
export class Span {
  buf: Buffer = EMPTY;
  start = -1;
  end = -1;
  str: string | undefined = undefined;

  get present(): boolean {
    return this.start >= 0;
  }

  set(buf: Buffer, start: number, end: number, str: string | undefined): void {
    this.buf = buf;
    this.start = start;
    this.end = end;
    this.str = str;
  }

  clear(): void {
    this.start = -1;
    this.str = undefined;
  }

  /** The value as a string (decoded from the bytes unless it was decoded already). */
  toString(): string {
    return this.str ?? this.buf.toString("utf8", this.start, this.end);
  }
}

/** A list of string values, reused from line to line. */
export class Spans {
  readonly bufs: Buffer[] = [];
  readonly starts: number[] = [];
  readonly ends: number[] = [];
  length = 0;

  push(buf: Buffer, start: number, end: number): void {
    const i = this.length++;
    this.bufs[i] = buf;
    this.starts[i] = start;
    this.ends[i] = end;
  }

  pushSpan(s: Span): void {
    this.push(s.buf, s.start, s.end);
  }

  clear(): void {
    this.length = 0;
  }
}

/** What the scanner found in one message; one instance is reused for every line. */
export class ScannedMessage {
  readonly from = new Span();
  readonly to = new Span();
  readonly group = new Span();
  /** MsgTimestamp, MsgSeq, MsgRandom when each is a whole number JSON gives exactly, else null. */
  msgTimestamp: number | null = null;
  msgSeq: number | null = null;
  msgRandom: number | null = null;
  /** The MsgType of each MsgBody element that has a string one, in order. */
  readonly types = new Spans();
  /** The Text of each TIMTextElem, in order. */
  readonly texts = new Spans();
  /** The media URLs (media.ts), in MsgBody order. */
  readonly media = new Spans();

  reset(): void {
    this.from.clear();
    this.to.clear();
    this.group.clear();
    this.msgTimestamp = null;
    this.msgSeq = null;
    this.msgRandom = null;
    this.clearBody();
  }

  clearBody(): void {
    this.types.clear();
    this.texts.clear();
    this.media.clear();
  }
}
