/**
 * Parquet's RLE/bit-packing hybrid, for definition/repetition levels (bit width 1) and dictionary
 * indices (up to 24 bits): runs of at least 8 equal values as RLE runs, everything between as
 * bit-packed groups of 8 (the last group padded with zeros, which readers ignore past the page's
 * value count).
 *
 * Module-level functions over one output buffer, not closures made per call: V8 optimizes a closure
 * made anew for each page anew (the inner functions were compiled a hundred times an index run).
 */
let out = Buffer.allocUnsafe(64 * 1024);
let len = 0;

function ensure(extra: number): void {
  if (len + extra <= out.length) return;
  const next = Buffer.allocUnsafe(Math.max(out.length * 2, len + extra));
  out.copy(next, 0, 0, len);
  out = next;
}

function varint(v: number): void {
  ensure(5);
  let x = v;
  while (x >= 0x80) {
    out[len++] = (x & 0x7f) | 0x80;
    x >>>= 7;
  }
  out[len++] = x;
}

function bitPacked(values: ArrayLike<number>, from: number, to: number, width: number): void {
  const groups = Math.ceil((to - from) / 8);
  varint((groups << 1) | 1);
  ensure(groups * width);
  let acc = 0;
  let bits = 0;
  if (width <= 24) {
    // In 32-bit integers: a value shifted by the < 8 bits pending stays below 2^31.
    for (let i = from; i < from + groups * 8; i++) {
      acc |= (i < to ? values[i]! : 0) << bits;
      bits += width;
      while (bits >= 8) {
        out[len++] = acc & 0xff;
        acc >>>= 8;
        bits -= 8;
      }
    }
    return;
  }
  for (let i = from; i < from + groups * 8; i++) {
    acc += (i < to ? values[i]! : 0) * 2 ** bits;
    bits += width;
    while (bits >= 8) {
      out[len++] = acc & 0xff;
      acc = Math.floor(acc / 256);
      bits -= 8;
    }
  }
}

/** The hybrid encoding of the first `n` values, each < 2^width: a view valid until the next call. */
export function encodeHybrid(values: ArrayLike<number>, n: number, width: number): Buffer {
  const valueBytes = Math.ceil(width / 8);
  len = 0;
  ensure(64 + Math.ceil((n * width) / 8) + (n >> 2));
  let i = 0;
  let packedFrom = -1;
  while (i < n) {
    const v = values[i]!;
    let j = i + 1;
    while (j < n && values[j] === v) j++;
    let run = j - i;
    if (run >= 8) {
      if (packedFrom >= 0) {
        // Bit-packed groups hold 8 values each: lend the run what the pending groups lack.
        const lend = Math.min((8 - ((i - packedFrom) % 8)) % 8, run);
        i += lend;
        run -= lend;
        bitPacked(values, packedFrom, i, width);
        packedFrom = -1;
      }
      if (run >= 8) {
        varint(run << 1);
        ensure(valueBytes);
        let x = v;
        for (let k = 0; k < valueBytes; k++) {
          out[len++] = x & 0xff;
          x >>>= 8;
        }
      } else if (run > 0) {
        packedFrom = i;
      }
      i = j;
    } else {
      if (packedFrom < 0) packedFrom = i;
      i = j;
    }
  }
  if (packedFrom >= 0) bitPacked(values, packedFrom, n, width);
  return out.subarray(0, len);
}
