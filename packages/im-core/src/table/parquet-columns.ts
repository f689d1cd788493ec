import { ByteDictionary } from "./byte-dictionary.ts";
import { encodeDeltaBinaryPacked } from "./delta.ts";
import { encodeHybrid } from "./hybrid.ts";

/**
 * Column buffers of the message table's Parquet writer: strings as DELTA_LENGTH_BYTE_ARRAY and numbers as DELTA_BINARY_PACKED,
 * definition and repetition levels kept one byte each and RLE/bit-packed when a page is cut.
 * Only what the table needs: UTF-8 strings, INT64 (also as a TIMESTAMP), lists of strings; every
 * level is 0 or 1 (bit width 1).
 */

export type ColumnKind = "string" | "int64" | "timestamp" | "list";

export interface ColumnDef {
  name: string;
  kind: ColumnKind;
  /** May be null (strings, numbers); lists are never null, only empty. */
  nullable: boolean;
  /** Keep min/max statistics (numbers, and strings that are the same for a whole file). */
  stats: boolean;
  /** Dictionary-encode strings (accounts, group ids: few distinct values per row group). */
  dictionary?: boolean;
}

/** Past this many distinct values (or bytes) a column chunk's later pages are plain. */
const MAX_DICT_VALUES = 1 << 16;
const MAX_DICT_BYTES = 2 * 1024 * 1024;

export const ENCODING_PLAIN = 0;
export const ENCODING_RLE_DICTIONARY = 8;
export const ENCODING_DELTA_BINARY_PACKED = 5;
export const ENCODING_DELTA_LENGTH_BYTE_ARRAY = 6;

/** One cut page: its levels and values, uncompressed, as the page body lays them out. */
export interface PageBody {
  body: Buffer;
  /** Level entries (values + nulls + empty lists). */
  numValues: number;
  numRows: number;
  nullCount: number;
  encoding: number;
}

const INITIAL_BYTES = 64 * 1024;

class Bytes {
  buf = Buffer.allocUnsafe(INITIAL_BYTES);
  len = 0;

  ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + extra) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  push(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }

  reset(): void {
    this.len = 0;
    // Let a page that grew past the usual size go.
    if (this.buf.length > 4 * 1024 * 1024) this.buf = Buffer.allocUnsafe(INITIAL_BYTES);
  }
}

class Numbers {
  arr = new Float64Array(4096);
  len = 0;

  push(v: number): void {
    if (this.len === this.arr.length) {
      const next = new Float64Array(this.arr.length * 2);
      next.set(this.arr);
      this.arr = next;
    }
    this.arr[this.len++] = v;
  }

  reset(): void {
    this.len = 0;
    if (this.arr.length > 1 << 20) this.arr = new Float64Array(4096);
  }
}

/**
 * The values, levels and statistics of one column, for the page being filled. Strings are kept
 * as their UTF-8 bytes back to back plus their lengths (DELTA_LENGTH_BYTE_ARRAY), numbers as they
 * are (DELTA_BINARY_PACKED).
 */
export class ColumnBuffer {
  readonly def: ColumnDef;
  /** String bytes, back to back. */
  readonly bytes = new Bytes();
  /** String lengths, or the numbers of a number column. */
  readonly nums = new Numbers();
  readonly defLevels: Bytes | undefined;
  readonly repLevels: Bytes | undefined;
  numValues = 0;
  numRows = 0;
  nullCount = 0;
  /** Statistics over the whole column chunk (row group), not just this page. */
  chunkNulls = 0;
  minNum = Number.POSITIVE_INFINITY;
  maxNum = Number.NEGATIVE_INFINITY;
  minStr: string | undefined;
  maxStr: string | undefined;
  /** The chunk's dictionary while it is in use. */
  readonly #dict: ByteDictionary | undefined;
  /** The page being filled is dictionary-encoded (its `nums` are indices). */
  #dictPage: boolean;
  /** addConstant's value and its dictionary index in this chunk (-1: none yet). */
  #constant: string | undefined;
  #constantIndex = -1;
  /** A string's UTF-8 bytes, on their way into the dictionary. */
  readonly #scratch = new Bytes();

  constructor(def: ColumnDef) {
    this.def = def;
    this.defLevels = def.nullable || def.kind === "list" ? new Bytes() : undefined;
    this.repLevels = def.kind === "list" ? new Bytes() : undefined;
    this.#dict = def.dictionary ? new ByteDictionary() : undefined;
    this.#dictPage = this.#dict !== undefined;
  }

  get byteSize(): number {
    return this.bytes.len + this.nums.len * 2 + (this.defLevels?.len ?? 0) + (this.repLevels?.len ?? 0);
  }

  addString(v: string | null): void {
    this.numRows++;
    this.numValues++;
    if (v === null) {
      this.#null();
      return;
    }
    this.defLevels?.push(1);
    this.addBytes(v);
    if (this.def.stats) {
      if (this.minStr === undefined || v < this.minStr) this.minStr = v;
      if (this.maxStr === undefined || v > this.maxStr) this.maxStr = v;
    }
  }

  /** A non-null string value given as UTF-8 bytes `buf[start..end)`, for a column without statistics. */
  addUtf8(buf: Buffer, start: number, end: number): void {
    if (this.def.stats) throw new Error(`${this.def.name} keeps statistics: add its values as strings`);
    this.numRows++;
    this.numValues++;
    this.defLevels?.push(1);
    this.#addValueBytes(buf, start, end);
  }

  /** A null value. */
  addNull(): void {
    this.numRows++;
    this.numValues++;
    this.#null();
  }

  /**
   * `v` again, a value the same for every row of the file (its partition values, its source key):
   * after the chunk's first row, one more dictionary index, no bytes. Needs a dictionary column.
   */
  addConstant(v: string): void {
    if (this.#constantIndex < 0 || this.#constant !== v || !this.#dictPage) {
      this.addString(v);
      this.#constant = v;
      this.#constantIndex = this.#dictPage ? this.nums.arr[this.nums.len - 1]! : -1;
      return;
    }
    this.numRows++;
    this.numValues++;
    this.defLevels?.push(1);
    this.nums.push(this.#constantIndex);
  }

  #addValueBytes(buf: Buffer, start: number, end: number): void {
    if (this.#dictPage) {
      this.nums.push(this.#dict!.indexOf(buf, start, end));
      return;
    }
    const n = end - start;
    const b = this.bytes;
    b.ensure(n);
    copyBytes(buf, start, end, b.buf, b.len);
    b.len += n;
    this.nums.push(n);
  }

  private addBytes(v: string): void {
    // At most 3 bytes of UTF-8 per UTF-16 code unit.
    const b = this.#dictPage ? this.#scratch : this.bytes;
    b.ensure(v.length * 3);
    const n = b.buf.write(v, b.len, "utf8");
    if (this.#dictPage) {
      this.nums.push(this.#dict!.indexOf(b.buf, 0, n));
      return;
    }
    b.len += n;
    this.nums.push(n);
  }

  addInt64(v: number | null): void {
    this.numRows++;
    this.numValues++;
    if (v === null) {
      this.#null();
      return;
    }
    this.defLevels?.push(1);
    this.nums.push(v);
    if (this.def.stats) {
      if (v < this.minNum) this.minNum = v;
      if (v > this.maxNum) this.maxNum = v;
    }
  }

  /** A list of UTF-8 values, `bufs[i][starts[i]..ends[i])` for i < length. */
  addUtf8List(items: {
    readonly bufs: readonly Buffer[];
    readonly starts: readonly number[];
    readonly ends: readonly number[];
    readonly length: number;
  }): void {
    this.numRows++;
    const defs = this.defLevels!;
    const reps = this.repLevels!;
    if (items.length === 0) {
      this.numValues++;
      defs.push(0);
      reps.push(0);
      return;
    }
    for (let i = 0; i < items.length; i++) {
      this.numValues++;
      defs.push(1);
      reps.push(i === 0 ? 0 : 1);
      this.#addValueBytes(items.bufs[i]!, items.starts[i]!, items.ends[i]!);
    }
  }

  #null(): void {
    this.defLevels!.push(0);
    this.nullCount++;
    this.chunkNulls++;
  }

  /** The page body (v1 layout: repetition levels, definition levels, values) and a fresh page. */
  cutPage(): PageBody {
    const parts: Buffer[] = [];
    if (this.repLevels !== undefined)
      parts.push(lengthPrefixed(encodeHybrid(this.repLevels.buf, this.repLevels.len, 1)));
    if (this.defLevels !== undefined)
      parts.push(lengthPrefixed(encodeHybrid(this.defLevels.buf, this.defLevels.len, 1)));
    let encoding: number;
    if (this.#dictPage && this.#dict!.size > 0) {
      encoding = ENCODING_RLE_DICTIONARY;
      const width = Math.max(1, Math.ceil(Math.log2(Math.max(2, this.#dict!.size))));
      parts.push(Buffer.from([width]), encodeHybrid(this.nums.arr, this.nums.len, width));
      // A dictionary that grew too big stops here: the chunk's later pages are plain.
      if (this.#dict!.size > MAX_DICT_VALUES || this.#dict!.byteLength > MAX_DICT_BYTES)
        this.#dictPage = false;
    } else if (this.def.kind === "string" || this.def.kind === "list") {
      encoding = ENCODING_DELTA_LENGTH_BYTE_ARRAY;
      // Lengths are small: their deltas are always exact.
      parts.push(
        encodeDeltaBinaryPacked(this.nums.arr, this.nums.len)!,
        this.bytes.buf.subarray(0, this.bytes.len),
      );
    } else {
      const delta = encodeDeltaBinaryPacked(this.nums.arr, this.nums.len);
      encoding = delta === undefined ? ENCODING_PLAIN : ENCODING_DELTA_BINARY_PACKED;
      // Numbers too far apart for exact deltas in doubles: PLAIN, 8 bytes each.
      parts.push(delta ?? plainInt64(this.nums.arr, this.nums.len));
    }
    const page: PageBody = {
      body: Buffer.concat(parts),
      numValues: this.numValues,
      numRows: this.numRows,
      nullCount: this.nullCount,
      encoding,
    };
    this.bytes.reset();
    this.nums.reset();
    this.defLevels?.reset();
    this.repLevels?.reset();
    this.numValues = 0;
    this.numRows = 0;
    this.nullCount = 0;
    return page;
  }

  /** The chunk's dictionary page body (PLAIN values) and its size, if any value went into one. */
  dictionaryPage(): { body: Buffer; count: number } | undefined {
    if (this.#dict === undefined || this.#dict.size === 0) return undefined;
    return {
      body: Buffer.from(this.#dict.bytes.subarray(0, this.#dict.byteLength)),
      count: this.#dict.size,
    };
  }

  /** Clears the chunk-wide statistics and dictionary for the next row group. */
  resetChunk(): void {
    if (this.#dict !== undefined) {
      this.#dict.clear();
      this.#dictPage = true;
    }
    this.#constantIndex = -1;
    this.chunkNulls = 0;
    this.minNum = Number.POSITIVE_INFINITY;
    this.maxNum = Number.NEGATIVE_INFINITY;
    this.minStr = undefined;
    this.maxStr = undefined;
  }
}

/** Below this many bytes a loop copies faster than Buffer's copy, a call into C++ (~50 ns). */
const SHORT_COPY = 32;

/** `src[start..end)` into `dst` at `at`; returns the bytes copied. */
export function copyBytes(src: Buffer, start: number, end: number, dst: Uint8Array, at: number): number {
  const n = end - start;
  if (n >= SHORT_COPY) return src.copy(dst, at, start, end);
  for (let i = start; i < end; i++) dst[at++] = src[i]!;
  return n;
}

function plainInt64(values: Float64Array, n: number): Buffer {
  const out = Buffer.allocUnsafe(n * 8);
  for (let i = 0; i < n; i++) out.writeBigInt64LE(BigInt(values[i]!), i * 8);
  return out;
}

function lengthPrefixed(b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + b.length);
  out.writeUInt32LE(b.length, 0);
  b.copy(out, 4);
  return out;
}
