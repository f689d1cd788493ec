/**
 * Which of the table's Parquet files a search can match, decided from each file's footer and the
 * dictionaries of the columns it filters on, before DuckDB opens anything. A file is left out only
 * when every row group proves it holds no match: a dictionary-encoded column chunk whose dictionary
 * lacks the value (every data page of the chunk reading from that dictionary), a chunk that is all
 * nulls, or min/max statistics that exclude the value. Anything else (another codec, a page of
 * another encoding, a footer it cannot read) keeps the file, so a search over the files kept finds
 * exactly what a search over all of them finds. Plain Parquet structures only: no sidecar to keep
 * in step with the table.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import { setImmediate as nextTurn } from "node:timers/promises";
import { zstdDecompressSync } from "node:zlib";
import { hourParts } from "../time/msgtime.ts";
import { c2cConversation } from "./rows.ts";
import type { MessageSearch } from "./search-sql.ts";
import { type Decoded, type DecodedValue, decodeStruct } from "./thrift.ts";

/** The file's tail read first: the footers of the table's files are a few KiB. */
const TAIL_BYTES = 16 * 1024;
/** Files examined between two turns of the event loop (a server's other requests go on). */
const FILES_A_TURN = 64;

const CODEC_UNCOMPRESSED = 0;
const CODEC_ZSTD = 6;
const PAGE_DATA = 0;
const PAGE_DICTIONARY = 2;
const PAGE_DATA_V2 = 3;
const ENCODING_PLAIN_DICTIONARY = 2;
const ENCODING_RLE_DICTIONARY = 8;

/** One row group's column chunks by column name, and the file they are read from. */
interface RowGroup {
  chunks: Map<string, Decoded>;
  read: (offset: number, length: number) => Buffer;
  /** The footer declares its column orders: min_value and max_value order strings byte by byte. */
  ordered: boolean;
}

type Test = (group: RowGroup) => boolean;

/**
 * The files (relative to `dir`, in the order given) that may hold a row `search` matches. A search
 * that filters on none of the columns this can test (only `text`, say) gets every file back.
 * It reads a few KiB of each file with synchronous calls, which cost less CPU than the same reads
 * through promises (bench/README.md, "Message table"), and lets the event loop turn every
 * FILES_A_TURN files.
 */
export async function filesThatMayMatch(
  dir: string,
  files: readonly string[],
  search: MessageSearch,
): Promise<string[]> {
  const first = search.from === undefined ? undefined : hourParts(search.from).dt;
  const last = search.to === undefined ? undefined : hourParts(search.to).dt;
  // The search's dt condition on the file's partition, as DuckDB applies it.
  const byDay = files.filter((file) => {
    const dt = DT.exec(file)?.[1];
    return dt === undefined || ((first === undefined || dt >= first) && (last === undefined || dt <= last));
  });
  const tests = rowGroupTests(search);
  if (tests.length === 0) return byDay;
  const reader = new ScratchReader();
  const kept: string[] = [];
  for (let i = 0; i < byDay.length; i++) {
    if (i > 0 && i % FILES_A_TURN === 0) await nextTurn();
    if (fileMayMatch(join(dir, byDay[i]!), tests, reader)) kept.push(byDay[i]!);
  }
  return kept;
}

const DT = /(?:^|[/\\])dt=([^/\\]+)[/\\]/;

/**
 * Reads into two buffers used again file after file (the footer's, whose values the decoded footer
 * points into, and the column chunks'): one file's reads allocate nothing.
 */
class ScratchReader {
  #fd = -1;
  #tail = Buffer.allocUnsafe(TAIL_BYTES);
  #chunk = Buffer.allocUnsafe(64 * 1024);

  open(path: string): void {
    this.#fd = openSync(path, "r");
  }

  size(): number {
    return fstatSync(this.#fd).size;
  }

  tail(offset: number, length: number): Buffer {
    if (this.#tail.length < length) this.#tail = Buffer.allocUnsafe(length);
    return this.#tail.subarray(0, readSync(this.#fd, this.#tail, 0, length, offset));
  }

  chunk(offset: number, length: number): Buffer {
    if (this.#chunk.length < length) this.#chunk = Buffer.allocUnsafe(length);
    return this.#chunk.subarray(0, readSync(this.#fd, this.#chunk, 0, length, offset));
  }

  close(): void {
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
  }
}

function rowGroupTests(search: MessageSearch): Test[] {
  const tests: Test[] = [];
  const { user, peer } = search;
  if (user !== undefined && peer !== undefined) {
    // conversation (not dictionary-encoded) is C2C's sorted "from|to", Group's group id. When
    // neither account holds a "|", a C2C row of theirs has both accounts among from and to.
    if (!user.includes("|") && !peer.includes("|")) {
      const either = (g: RowGroup, column: string) => mayHold(g, column, user) || mayHold(g, column, peer);
      const conversation = c2cConversation(user, peer);
      tests.push(
        (g) => (either(g, "from_account") && either(g, "to_account")) || mayHold(g, "group_id", conversation),
      );
    }
  } else if (user !== undefined) {
    tests.push((g) => mayHold(g, "from_account", user) || mayHold(g, "to_account", user));
  }
  if (search.group !== undefined) tests.push((g) => mayHold(g, "group_id", search.group!));
  if (search.type !== undefined) tests.push((g) => mayHold(g, "msg_types", search.type!));
  if (search.from !== undefined) tests.push((g) => !outside(g, "msg_time", search.from!, "max"));
  if (search.to !== undefined) tests.push((g) => !outside(g, "msg_time", search.to!, "min"));
  return tests;
}

function fileMayMatch(path: string, tests: Test[], reader: ScratchReader): boolean {
  try {
    reader.open(path);
    const read = (offset: number, length: number) => reader.chunk(offset, length);
    const footer = readFooter(reader);
    const groups = footer.get(4);
    const ordered = Array.isArray(footer.get(7));
    if (!Array.isArray(groups)) return true;
    return groups.some((group) => {
      if (!(group instanceof Map)) return true;
      const rowGroup: RowGroup = { chunks: chunksByColumn(group), read, ordered };
      return tests.every((test) => test(rowGroup));
    });
  } catch {
    // Not readable here: DuckDB reads it and says what is wrong with it.
    return true;
  } finally {
    reader.close();
  }
}

function readFooter(reader: ScratchReader): Decoded {
  const size = reader.size();
  const tailLength = Math.min(size, TAIL_BYTES);
  let tail = reader.tail(size - tailLength, tailLength);
  if (tail.length < 12 || tail.toString("latin1", tail.length - 4) !== "PAR1") throw new Error("not Parquet");
  const length = tail.readUInt32LE(tail.length - 8);
  if (length + 8 > tail.length) {
    if (length + 12 > size) throw new Error("footer length out of range");
    tail = reader.tail(size - 8 - length, length + 8);
  }
  return decodeStruct(tail.subarray(tail.length - 8 - length, tail.length - 8)).value;
}

/** RowGroup.columns (field 1): each ColumnChunk's meta_data (field 3) by its path's first name. */
function chunksByColumn(group: Decoded): Map<string, Decoded> {
  const out = new Map<string, Decoded>();
  const columns = group.get(1);
  if (!Array.isArray(columns)) return out;
  for (const column of columns) {
    const meta = column instanceof Map ? column.get(3) : undefined;
    if (!(meta instanceof Map)) continue;
    const path = meta.get(3);
    const name = Array.isArray(path) && Buffer.isBuffer(path[0]) ? path[0].toString("utf8") : undefined;
    if (name !== undefined) out.set(name, meta);
  }
  return out;
}

const num = (v: DecodedValue | undefined): number | undefined => (typeof v === "number" ? v : undefined);

/** Whether the row group's chunk of `column` may hold `value` (false only when it provably does not). */
function mayHold(group: RowGroup, column: string, value: string): boolean {
  const meta = group.chunks.get(column);
  if (meta === undefined) return true;
  const values = num(meta.get(5));
  const stats = meta.get(12);
  if (stats instanceof Map && values !== undefined && num(stats.get(3)) === values) return false;
  if (outside(group, column, value, "min") || outside(group, column, value, "max")) return false;
  const dictionaryAt = num(meta.get(11));
  const bytes = num(meta.get(7));
  const codec = num(meta.get(4));
  if (dictionaryAt === undefined || bytes === undefined) return true;
  if (codec !== CODEC_ZSTD && codec !== CODEC_UNCOMPRESSED) return true;
  const chunk = group.read(dictionaryAt, bytes);
  let pos = 0;
  let found = false;
  let first = true;
  while (pos < chunk.length) {
    const { value: header, end } = decodeStruct(chunk, pos);
    const type = num(header.get(1));
    const compressedSize = num(header.get(3));
    if (compressedSize === undefined || end + compressedSize > chunk.length) return true;
    if (first) {
      if (type !== PAGE_DICTIONARY) return true;
      const page = chunk.subarray(end, end + compressedSize);
      // One output buffer of the page's size (the default is a list of 16 KiB chunks).
      const size = Math.max(64, num(header.get(2)) ?? 0);
      found = plainMayHold(
        codec === CODEC_ZSTD ? zstdDecompressSync(page, { chunkSize: size }) : page,
        value,
      );
      if (found) return true;
      first = false;
    } else {
      const pageHeader =
        type === PAGE_DATA ? header.get(5) : type === PAGE_DATA_V2 ? header.get(8) : undefined;
      if (!(pageHeader instanceof Map)) return true;
      const encoding = num(pageHeader.get(type === PAGE_DATA ? 2 : 4));
      if (encoding !== ENCODING_RLE_DICTIONARY && encoding !== ENCODING_PLAIN_DICTIONARY) return true;
    }
    pos = end + compressedSize;
  }
  return found;
}

/**
 * PLAIN BYTE_ARRAY values (each a 4-byte length, then its bytes): may `wanted` be one of them?
 * Searched as its length and bytes together, natively; a hit that is not at a value's start only
 * keeps a file that did not need keeping.
 */
function plainMayHold(values: Buffer, wanted: string): boolean {
  const bytes = Buffer.from(wanted, "utf8");
  const entry = Buffer.allocUnsafe(4 + bytes.length);
  entry.writeUInt32LE(bytes.length, 0);
  bytes.copy(entry, 4);
  return values.includes(entry);
}

/**
 * Whether the chunk's statistics put `value` past its min (`side` "min": value < min) or its max
 * (value > max), comparing UTF-8 bytes as Parquet orders strings. Without statistics, or without
 * the footer's column orders that say how they are ordered: false.
 */
function outside(group: RowGroup, column: string, value: string, side: "min" | "max"): boolean {
  if (!group.ordered) return false;
  const stats = group.chunks.get(column)?.get(12);
  if (!(stats instanceof Map)) return false;
  const bound = stats.get(side === "min" ? 6 : 5);
  if (!Buffer.isBuffer(bound)) return false;
  const order = Buffer.from(value, "utf8").compare(bound);
  return side === "min" ? order < 0 : order > 0;
}
