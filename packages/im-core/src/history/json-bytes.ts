/**
 * The JSON grammar over bytes, for MessageScanner: whitespace, strings, numbers, literals and any
 * value skipped, each checked as JSON.parse checks it (RFC 8259), positions as indices into `buf`,
 * which ends at `end`. A byte JSON.parse would refuse throws INVALID.
 */

/** Thrown for bytes JSON.parse would refuse; the scanner turns it into a HistoryFormatError. */
export const INVALID = new Error("invalid JSON");

export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const COLON = 0x3a;
export const COMMA = 0x2c;
export const OPEN_BRACE = 0x7b;
export const CLOSE_BRACE = 0x7d;
export const OPEN_BRACKET = 0x5b;
export const CLOSE_BRACKET = 0x5d;

export class JsonBytes {
  buf: Buffer = Buffer.alloc(0);
  end = 0;
  /** skipValue's stack of the closing brackets it awaits (its depth apart: an array's `length = 0` is a runtime call). */
  closers = new Uint8Array(64);
  /** The string just skipped had an escape. */
  escaped = false;
  /** The number just skipped, when a whole number JSON gives exactly; else null. */
  number: number | null = null;

  at(pos: number): number {
    return pos < this.end ? this.buf[pos]! : -1;
  }

  ws(pos: number): number {
    const { buf, end } = this;
    while (pos < end) {
      const b = buf[pos]!;
      if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) pos++;
      else break;
    }
    return pos;
  }

  /** The string token `buf[from..to)` (quotes included), decoded as JSON.parse decodes it. */
  decode(from: number, to: number): string {
    return JSON.parse(this.buf.toString("utf8", from, to)) as string;
  }

  /** Skips the string at `pos` (its opening quote); sets `escaped`. */
  skipString(pos: number): number {
    const { buf, end } = this;
    let escaped = false;
    let i = pos + 1;
    for (;;) {
      // The string's plain bytes, one table look-up each (most of a string's bytes).
      while (i < end && STRING_BYTE[buf[i]!] === 1) i++;
      if (i >= end) throw INVALID;
      const b = buf[i]!;
      if (b === QUOTE) break;
      if (b === BACKSLASH) {
        escaped = true;
        const c = i + 1 < end ? buf[i + 1]! : -1;
        if (c === 0x75) {
          if (i + 6 > end) throw INVALID;
          for (let k = i + 2; k < i + 6; k++) if (!isHex(buf[k]!)) throw INVALID;
          i += 6;
        } else if (
          c === QUOTE ||
          c === BACKSLASH ||
          c === 0x2f ||
          c === 0x62 ||
          c === 0x66 ||
          c === 0x6e ||
          c === 0x72 ||
          c === 0x74
        ) {
          i += 2;
        } else {
          throw INVALID;
        }
      } else if (b < 0x20) {
        throw INVALID;
      } else {
        i++;
      }
    }
    this.escaped = escaped;
    return i + 1;
  }

  /** Skips the number at `pos`; sets `number`. */
  skipNumber(pos: number): number {
    const { buf, end } = this;
    let i = pos;
    const negative = buf[i] === 0x2d;
    if (negative) i++;
    const digits = i;
    const first = this.at(i);
    if (first === 0x30) i++;
    else if (first >= 0x31 && first <= 0x39) while (i < end && isDigit(buf[i]!)) i++;
    else throw INVALID;
    let whole = true;
    if (this.at(i) === 0x2e) {
      whole = false;
      i++;
      if (!isDigit(this.at(i))) throw INVALID;
      while (i < end && isDigit(buf[i]!)) i++;
    }
    const e = this.at(i);
    if (e === 0x65 || e === 0x45) {
      whole = false;
      i++;
      const sign = this.at(i);
      if (sign === 0x2b || sign === 0x2d) i++;
      if (!isDigit(this.at(i))) throw INVALID;
      while (i < end && isDigit(buf[i]!)) i++;
    }
    if (whole && i - digits <= 15) {
      let v = 0;
      for (let k = digits; k < i; k++) v = v * 10 + (buf[k]! - 0x30);
      this.number = negative ? -v : v;
    } else {
      const v = Number(buf.toString("latin1", pos, i));
      this.number = Number.isSafeInteger(v) ? v : null;
    }
    return i;
  }

  /** Skips any JSON value at `pos`, nested ones without recursion. */
  skipValue(pos: number): number {
    let closers = this.closers;
    let depth = 0;
    for (;;) {
      pos = this.ws(pos);
      const c = this.at(pos);
      if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        pos = this.ws(pos + 1);
        const close = c === OPEN_BRACE ? CLOSE_BRACE : CLOSE_BRACKET;
        if (this.at(pos) === close) {
          pos++;
        } else {
          if (depth === closers.length) {
            const deeper = new Uint8Array(depth * 2);
            deeper.set(closers);
            closers = deeper;
            this.closers = deeper;
          }
          closers[depth++] = close;
          if (close === CLOSE_BRACE) pos = this.key(pos);
          continue;
        }
      } else if (c === QUOTE) {
        pos = this.skipString(pos);
      } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
        pos = this.skipNumber(pos);
      } else {
        pos = this.literal(pos);
      }
      // After a value: the containers it ends, or the next member.
      for (;;) {
        if (depth === 0) return pos;
        pos = this.ws(pos);
        const d = this.at(pos);
        const close = closers[depth - 1]!;
        if (d === close) {
          depth--;
          pos++;
        } else if (d === COMMA) {
          pos = this.ws(pos + 1);
          if (close === CLOSE_BRACE) pos = this.key(pos);
          break;
        } else {
          throw INVALID;
        }
      }
    }
  }

  /** A member's key and colon at `pos`; returns the position of its value. */
  key(pos: number): number {
    if (this.at(pos) !== QUOTE) throw INVALID;
    pos = this.ws(this.skipString(pos));
    if (this.at(pos) !== COLON) throw INVALID;
    return pos + 1;
  }

  literal(pos: number): number {
    const buf = this.buf;
    const c = this.at(pos);
    if (
      c === 0x74 &&
      pos + 4 <= this.end &&
      buf[pos + 1] === 0x72 &&
      buf[pos + 2] === 0x75 &&
      buf[pos + 3] === 0x65
    ) {
      return pos + 4;
    }
    if (
      c === 0x6e &&
      pos + 4 <= this.end &&
      buf[pos + 1] === 0x75 &&
      buf[pos + 2] === 0x6c &&
      buf[pos + 3] === 0x6c
    ) {
      return pos + 4;
    }
    if (
      c === 0x66 &&
      pos + 5 <= this.end &&
      buf[pos + 1] === 0x61 &&
      buf[pos + 2] === 0x6c &&
      buf[pos + 3] === 0x73 &&
      buf[pos + 4] === 0x65
    ) {
      return pos + 5;
    }
    throw INVALID;
  }
}

/** 1 for a byte that stands for itself inside a JSON string: not a quote, a backslash or a control character. */
const STRING_BYTE = new Uint8Array(256).fill(1, 0x20);
STRING_BYTE[QUOTE] = 0;
STRING_BYTE[BACKSLASH] = 0;

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

function isHex(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
}
