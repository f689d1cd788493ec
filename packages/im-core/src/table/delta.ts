/**
 * Parquet's DELTA_BINARY_PACKED encoding of whole numbers (|v| < 2^53): blocks of 128 deltas in 4
 * miniblocks of 32, each miniblock bit-packed at the width its largest delta needs. Consecutive line
 * numbers, sequence numbers and timestamps shrink to a few bits a value; it also encodes the lengths
 * of DELTA_LENGTH_BYTE_ARRAY, which keeps a string column's bytes free of interleaved lengths.
 */

const BLOCK = 128;
const MINIBLOCKS = 4;
const PER_MINI = BLOCK / MINIBLOCKS;

class ByteOut {
  buf: Buffer;
  len = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(Math.max(64, size));
  }
  ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + extra));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }
  varint(n: number): void {
    let v = n;
    while (v >= 0x80) {
      this.byte((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.byte(v);
  }
  zigzag(n: number): void {
    this.varint(n >= 0 ? n * 2 : -n * 2 - 1);
  }
}

function bitWidth(max: number): number {
  let w = 0;
  let v = max;
  while (v >= 1) {
    w++;
    v = Math.floor(v / 2);
  }
  return w;
}

/** Packs `count` values (each < 2^width) little-endian, LSB first; pads the miniblock to 32 values. */
function pack(out: ByteOut, vals: Float64Array, from: number, count: number, width: number): void {
  const bytes = (PER_MINI * width) / 8;
  out.ensure(bytes);
  const start = out.len;
  out.buf.fill(0, start, start + bytes);
  if (width === 0) return;
  if (width <= 24) {
    // In 32-bit integers: a value shifted by the < 8 bits pending stays below 2^31.
    const buf = out.buf;
    let o = start;
    let acc = 0;
    let bits = 0;
    for (let i = 0; i < count; i++) {
      acc |= vals[from + i]! << bits;
      bits += width;
      while (bits >= 8) {
        buf[o++] = acc & 0xff;
        acc >>>= 8;
        bits -= 8;
      }
    }
    if (bits > 0) buf[o] = acc & 0xff;
    out.len = start + bytes;
    return;
  }
  let bit = 0;
  for (let i = 0; i < count; i++) {
    let v = vals[from + i]!;
    let left = width;
    let pos = start + (bit >>> 3);
    let shift = bit & 7;
    while (left > 0) {
      const take = Math.min(8 - shift, left);
      const part = v % 2 ** take;
      out.buf[pos] = out.buf[pos]! | (part << shift);
      v = (v - part) / 2 ** take;
      left -= take;
      shift = 0;
      pos++;
    }
    bit += width;
  }
  out.len = start + bytes;
}

/** Past this, a zigzag value (2|v| + 1) is no longer exact in a double. */
const MAX_ZIGZAG_INPUT = 2 ** 52;

/**
 * DELTA_BINARY_PACKED bytes of the first `n` values, or undefined when they cannot be computed
 * exactly in doubles (a delta, a delta less its block's minimum, or a zigzagged first value or
 * minimum past 2^52): values near ±2^53 are that far apart.
 */
export function encodeDeltaBinaryPacked(values: ArrayLike<number>, n: number): Buffer | undefined {
  if (n > 0 && Math.abs(values[0]!) > MAX_ZIGZAG_INPUT) return undefined;
  const out = new ByteOut(16 + n);
  out.varint(BLOCK);
  out.varint(MINIBLOCKS);
  out.varint(n);
  out.zigzag(n > 0 ? values[0]! : 0);
  const deltas = new Float64Array(BLOCK);
  for (let start = 1; start < n; start += BLOCK) {
    const count = Math.min(BLOCK, n - start);
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < count; i++) {
      const d = values[start + i]! - values[start + i - 1]!;
      deltas[i] = d;
      if (d < min) min = d;
      if (d > max) max = d;
    }
    if (!Number.isSafeInteger(max - min) || Math.abs(min) > MAX_ZIGZAG_INPUT || !Number.isSafeInteger(max)) {
      return undefined;
    }
    out.zigzag(min);
    const widths: number[] = [];
    for (let m = 0; m < MINIBLOCKS; m++) {
      let max = 0;
      for (let i = m * PER_MINI; i < Math.min(count, (m + 1) * PER_MINI); i++) {
        deltas[i] = deltas[i]! - min;
        if (deltas[i]! > max) max = deltas[i]!;
      }
      widths.push(m * PER_MINI < count ? bitWidth(max) : 0);
    }
    for (const w of widths) out.byte(w);
    for (let m = 0; m < MINIBLOCKS && m * PER_MINI < count; m++) {
      pack(out, deltas, m * PER_MINI, Math.min(PER_MINI, count - m * PER_MINI), widths[m]!);
    }
  }
  return out.buf.subarray(0, out.len);
}
