/**
 * A field scanner over one message line's bytes: validates the line as JSON (what JSON.parse
 * accepts, byte for byte) and finds the fields the message table needs — accounts, group, time,
 * sequence, random, the MsgBody's types, texts and media URLs — as byte ranges of the line, without
 * building the message's objects or strings. Indexing used JSON.parse and walked the objects; that
 * was the biggest share of its CPU after the column encoders (bench/README.md, "Message table").
 *
 * The meaning of every field is that of `messageRow` over `JSON.parse` (table/rows.ts) and of
 * `mediaUrls` (media.ts), which the tests hold it to: the last of duplicate keys wins, a field of
 * the wrong type counts as absent, a string with escapes is decoded (by JSON.parse, on its own).
 * Expects the line's bytes to be valid UTF-8 (the caller re-encodes a line that is not, as
 * JSON.parse would have read it).
 */
import { HistoryFormatError } from "../errors.ts";
import {
  CLOSE_BRACE,
  CLOSE_BRACKET,
  COLON,
  COMMA,
  INVALID,
  JsonBytes,
  OPEN_BRACE,
  OPEN_BRACKET,
  QUOTE,
} from "./json-bytes.ts";
import { ScannedMessage, Span, Spans } from "./scanned-message.ts";

export { ScannedMessage, Span, Spans } from "./scanned-message.ts";

const EMPTY = Buffer.alloc(0);

const names = (...n: string[]) => n.map((s) => Buffer.from(s, "latin1"));
/** The objects the scanner looks into, and the keys it looks for in each. */
const TOP = 0;
const ELEM = 1;
const CONTENT = 2;
const IMAGE = 3;
const TOP_KEYS = names(
  "From_Account",
  "To_Account",
  "GroupId",
  "MsgTimestamp",
  "MsgSeq",
  "MsgRandom",
  "MsgBody",
);
const ELEM_KEYS = names("MsgType", "MsgContent");
const CONTENT_KEYS = names("Text", "Url", "VideoUrl", "ThumbUrl", "ImageInfoArray");
const IMAGE_KEYS = names("URL");
const KEYS = [TOP_KEYS, ELEM_KEYS, CONTENT_KEYS, IMAGE_KEYS];
const TEXT_ELEM = Buffer.from("TIMTextElem", "latin1");
const IMAGE_ELEM = Buffer.from("TIMImageElem", "latin1");
const SOUND_ELEM = Buffer.from("TIMSoundElem", "latin1");
const FILE_ELEM = Buffer.from("TIMFileElem", "latin1");
const VIDEO_ELEM = Buffer.from("TIMVideoFileElem", "latin1");

/**
 * Scans message lines into one reused {@link ScannedMessage} (`message`), so that scanning allocates
 * nothing for a line without escapes.
 */
export class MessageScanner {
  readonly message = new ScannedMessage();
  readonly #scan = new Scan(this.message);

  /**
   * Scans the message `buf[start..end)` (a line without its blanks and comma) into `message`.
   * Throws HistoryFormatError naming `line` when it is not valid JSON, not an object, or its MsgBody
   * is not an array — the parser's own checks, in the same order.
   */
  scan(buf: Buffer, start: number, end: number, line: number): ScannedMessage {
    const s = this.#scan;
    this.message.reset();
    s.buf = buf;
    s.end = end;
    s.bodyNotArray = false;
    try {
      const pos = s.ws(start);
      if (s.at(pos) !== OPEN_BRACE) {
        if (s.ws(s.skipValue(pos)) !== end) throw INVALID;
        throw new HistoryFormatError(line, "a message must be a JSON object");
      }
      if (s.ws(s.message(pos)) !== end) throw INVALID;
    } catch (err) {
      if (err === INVALID || err instanceof RangeError) throw new HistoryFormatError(line, "not valid JSON");
      throw err;
    } finally {
      s.buf = EMPTY;
    }
    if (s.bodyNotArray) throw new HistoryFormatError(line, "MsgBody must be an array");
    return this.message;
  }
}

/** The state of one message's scan; positions are indices into `buf`, which ends at `end`. */
class Scan extends JsonBytes {
  readonly out: ScannedMessage;
  /** The last MsgBody seen was not an array. */
  bodyNotArray = false;
  /** An element's fields, taken when the element ends (MsgType may follow MsgContent). */
  readonly type = new Span();
  readonly text = new Span();
  readonly url = new Span();
  readonly videoUrl = new Span();
  readonly thumbUrl = new Span();
  readonly imageUrls = new Spans();
  readonly imageUrl = new Span();
  contentIsObject = false;

  constructor(out: ScannedMessage) {
    super();
    this.out = out;
  }

  /** The top-level object at `pos`; returns the position after it. */
  message(pos: number): number {
    return this.object(pos, TOP);
  }

  /** The value of the member `key` (1-based in KEYS[level], 0: another) of an object at `level`. */
  member(level: number, key: number, at: number): number {
    const out = this.out;
    switch (level * 8 + key) {
      case TOP * 8 + 1:
        return this.string(at, out.from);
      case TOP * 8 + 2:
        return this.string(at, out.to);
      case TOP * 8 + 3:
        return this.string(at, out.group);
      case TOP * 8 + 4:
        at = this.numberAt(at);
        out.msgTimestamp = this.number;
        return at;
      case TOP * 8 + 5:
        at = this.numberAt(at);
        out.msgSeq = this.number;
        return at;
      case TOP * 8 + 6:
        at = this.numberAt(at);
        out.msgRandom = this.number;
        return at;
      case TOP * 8 + 7:
        out.clearBody();
        this.bodyNotArray = this.at(at) !== OPEN_BRACKET;
        return this.bodyNotArray ? this.skipValue(at) : this.array(at, ELEM);
      case ELEM * 8 + 1:
        return this.string(at, this.type);
      case ELEM * 8 + 2:
        return this.content(at);
      case CONTENT * 8 + 1:
        return this.string(at, this.text);
      case CONTENT * 8 + 2:
        return this.string(at, this.url);
      case CONTENT * 8 + 3:
        return this.string(at, this.videoUrl);
      case CONTENT * 8 + 4:
        return this.string(at, this.thumbUrl);
      case CONTENT * 8 + 5:
        this.imageUrls.clear();
        return this.at(at) === OPEN_BRACKET ? this.array(at, IMAGE) : this.skipValue(at);
      case IMAGE * 8 + 1:
        return this.string(at, this.imageUrl);
      default:
        return this.skipValue(at);
    }
  }

  /** One MsgBody element: its fields are taken into `out` once the whole element is read. */
  element(pos: number): number {
    if (this.at(pos) !== OPEN_BRACE) return this.skipValue(pos);
    this.type.clear();
    this.contentIsObject = false;
    const after = this.object(pos, ELEM);
    const type = this.type;
    if (!type.present) return after;
    const out = this.out;
    out.types.pushSpan(type);
    if (!this.contentIsObject) return after;
    if (is(type, TEXT_ELEM)) {
      if (this.text.present) out.texts.pushSpan(this.text);
    } else if (is(type, IMAGE_ELEM)) {
      const urls = this.imageUrls;
      for (let i = 0; i < urls.length; i++) addUrl(out.media, urls.bufs[i]!, urls.starts[i]!, urls.ends[i]!);
    } else if (is(type, SOUND_ELEM) || is(type, FILE_ELEM)) {
      if (this.url.present) addUrl(out.media, this.url.buf, this.url.start, this.url.end, this.url.str);
    } else if (is(type, VIDEO_ELEM)) {
      const v = this.videoUrl;
      const t = this.thumbUrl;
      if (v.present) addUrl(out.media, v.buf, v.start, v.end, v.str);
      if (t.present) addUrl(out.media, t.buf, t.start, t.end, t.str);
    }
    return after;
  }

  /** An element's MsgContent (the last one wins, as with JSON.parse). */
  content(pos: number): number {
    this.text.clear();
    this.url.clear();
    this.videoUrl.clear();
    this.thumbUrl.clear();
    this.imageUrls.clear();
    this.contentIsObject = this.at(pos) === OPEN_BRACE;
    if (!this.contentIsObject) return this.skipValue(pos);
    return this.object(pos, CONTENT);
  }

  /** One ImageInfoArray entry: its URL, when it is a string. */
  image(pos: number): number {
    if (this.at(pos) !== OPEN_BRACE) return this.skipValue(pos);
    const url = this.imageUrl;
    url.clear();
    const after = this.object(pos, IMAGE);
    if (url.present) {
      // A decoded URL keeps its own buffer: the bytes of its string.
      this.imageUrls.push(url.buf, url.start, url.end);
    }
    return after;
  }

  /** The object at `pos` (which is `{`) at `level`: each member's value read by `member`. */
  object(pos: number, level: number): number {
    const keys = KEYS[level]!;
    pos = this.ws(pos + 1);
    if (this.at(pos) === CLOSE_BRACE) return pos + 1;
    for (;;) {
      if (this.at(pos) !== QUOTE) throw INVALID;
      const keyEnd = this.skipString(pos);
      const key = this.escaped
        ? matchKeyString(this.decode(pos, keyEnd), keys)
        : matchKey(this.buf, pos + 1, keyEnd - 1, keys);
      pos = this.ws(keyEnd);
      if (this.at(pos) !== COLON) throw INVALID;
      pos = this.ws(this.member(level, key, this.ws(pos + 1)));
      const c = this.at(pos);
      if (c === COMMA) pos = this.ws(pos + 1);
      else if (c === CLOSE_BRACE) return pos + 1;
      else throw INVALID;
    }
  }

  /** The array at `pos` (which is `[`) of MsgBody elements (ELEM) or ImageInfoArray entries (IMAGE). */
  array(pos: number, level: number): number {
    pos = this.ws(pos + 1);
    if (this.at(pos) === CLOSE_BRACKET) return pos + 1;
    for (;;) {
      pos = this.ws(level === ELEM ? this.element(pos) : this.image(pos));
      const c = this.at(pos);
      if (c === COMMA) pos = this.ws(pos + 1);
      else if (c === CLOSE_BRACKET) return pos + 1;
      else throw INVALID;
    }
  }

  /** A value that is a string into `span` (else `span` cleared: a field of another type is absent). */
  string(pos: number, span: Span): number {
    if (this.at(pos) !== QUOTE) {
      span.clear();
      return this.skipValue(pos);
    }
    const after = this.skipString(pos);
    if (this.escaped) {
      const str = this.decode(pos, after);
      const bytes = Buffer.from(str, "utf8");
      span.set(bytes, 0, bytes.length, str);
    } else {
      span.set(this.buf, pos + 1, after - 1, undefined);
    }
    return after;
  }

  /** A value into `this.number` (null unless it is a number that is a safe integer). */
  numberAt(pos: number): number {
    const c = this.at(pos);
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.skipNumber(pos);
    const after = this.skipValue(pos);
    this.number = null;
    return after;
  }
}

/** 1-based index of the key `buf[start..end)` in `keys`, or 0. */
function matchKey(buf: Buffer, start: number, end: number, keys: readonly Buffer[]): number {
  const n = end - start;
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k]!;
    if (key.length !== n) continue;
    let i = 0;
    while (i < n && buf[start + i] === key[i]) i++;
    if (i === n) return k + 1;
  }
  return 0;
}

function matchKeyString(key: string, keys: readonly Buffer[]): number {
  const bytes = Buffer.from(key, "utf8");
  return matchKey(bytes, 0, bytes.length, keys);
}

/** The span's bytes are exactly `name`'s. */
function is(span: Span, name: Buffer): boolean {
  const n = name.length;
  if (span.end - span.start !== n) return false;
  const { buf, start } = span;
  for (let i = 0; i < n; i++) if (buf[start + i] !== name[i]) return false;
  return true;
}

/** Adds a media URL unless it is empty or blank (String.prototype.trim's whitespace), as media.ts does. */
function addUrl(media: Spans, buf: Buffer, start: number, end: number, str?: string): void {
  let ascii = true;
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (b >= 0x80) ascii = false;
    else if (b !== 0x20 && (b < 0x09 || b > 0x0d)) {
      media.push(buf, start, end);
      return;
    }
  }
  if (ascii) return;
  if ((str ?? buf.toString("utf8", start, end)).trim() !== "") media.push(buf, start, end);
}
