/**
 * A Parquet writer made for the message table, streaming: rows go into per-column page buffers,
 * each page is ZSTD-compressed as soon as it is cut (on libuv's threads, so compression runs beside
 * the parsing), and each row group is written out as soon as it is complete. Memory is bounded by
 * one row group's compressed pages plus one uncompressed page per column, never by the file.
 *
 * Why not a general library: measured on the same generated history (bench/README.md, "Message
 * table"), the general writers spent most of their time building and re-encoding values (and one
 * needed the whole file in memory); this one writes each value once, PLAIN, and leaves compression
 * to zstd. The format written is plain Parquet 1.0 pages (DATA_PAGE v1, PLAIN values, RLE levels,
 * ZSTD), which DuckDB, Athena/Trino, Spark and pyarrow all read.
 */
import {
  ColumnBuffer as Column,
  type ColumnBuffer,
  type ColumnDef,
  ENCODING_PLAIN,
  type PageBody,
} from "./parquet-columns.ts";
import { binary, bool, encodeStruct, i32, i64, list, struct, type ThriftStruct } from "./thrift.ts";
import { acquireZstdPages, type ZstdPages } from "./zstd-pages.ts";

const MAGIC = Buffer.from("PAR1", "ascii");

// parquet.thrift enums
const TYPE_INT64 = 2;
const TYPE_BYTE_ARRAY = 6;
const REQUIRED = 0;
const OPTIONAL = 1;
const REPEATED = 2;
const CONVERTED_UTF8 = 0;
const CONVERTED_LIST = 3;
const ENCODING_RLE = 3;
const CODEC_ZSTD = 6;
const PAGE_DATA = 0;
const PAGE_DICTIONARY = 2;

export interface ParquetWriterOptions {
  /** Cut a page once a column's buffer holds this many bytes. Default 1 MiB. */
  pageBytes?: number;
  /** Close a row group after this many rows. Default 122,880 (DuckDB's). */
  rowGroupRows?: number;
  /** Close a row group once its uncompressed pages reach this many bytes. Default 64 MiB. */
  rowGroupBytes?: number;
  /** ZSTD level. Default 1: on the message table, smaller and cheaper than 3 (bench/README.md, "Message table"). */
  zstdLevel?: number;
  /** Key-value metadata of the file. */
  keyValue?: Record<string, string>;
  createdBy?: string;
}

interface Page {
  header: Buffer;
  data: Buffer;
  uncompressed: number;
  encoding: number;
}

interface ChunkPages {
  pages: Promise<Page>[];
  /** Level entries across the pages. */
  numValues: number;
}

/**
 * Writes rows as Parquet to `sink`, which gets the file's bytes in order; a Promise from `sink`
 * is awaited (backpressure). For each row, add a value to every column (`columns[i].add*`), then
 * call `endRow()`; when `groupFull`, `await flush()` sends the row group out; `finish()` writes the
 * last one and the footer, or `close()` gives the writer up.
 */
export class ParquetWriter {
  readonly columns: ColumnBuffer[];
  readonly #sink: (bytes: Buffer) => void | Promise<void>;
  readonly #pageBytes: number;
  readonly #rowGroupRows: number;
  readonly #rowGroupBytes: number;
  readonly #zstd: ZstdPages;
  readonly #releaseZstd: () => void;
  readonly #keyValue: Record<string, string>;
  readonly #createdBy: string;
  #offset = 0;
  #rows = 0;
  #groupRows = 0;
  #groupBytes = 0;
  #chunks: ChunkPages[];
  readonly #rowGroups: ThriftStruct[] = [];
  #started = false;

  constructor(
    defs: readonly ColumnDef[],
    sink: (bytes: Buffer) => void | Promise<void>,
    options: ParquetWriterOptions = {},
  ) {
    this.columns = defs.map((d) => new Column(d));
    this.#chunks = defs.map(() => ({ pages: [], numValues: 0 }));
    this.#sink = sink;
    this.#pageBytes = options.pageBytes ?? 1024 * 1024;
    this.#rowGroupRows = options.rowGroupRows ?? 122_880;
    this.#rowGroupBytes = options.rowGroupBytes ?? 64 * 1024 * 1024;
    const zstd = acquireZstdPages(options.zstdLevel ?? 1);
    this.#zstd = zstd.pages;
    this.#releaseZstd = zstd.release;
    this.#keyValue = options.keyValue ?? {};
    this.#createdBy = options.createdBy ?? "imvault";
  }

  get rows(): number {
    return this.#rows;
  }

  /** Call after the columns of one row were added: cuts the pages that are full. */
  endRow(): void {
    this.#rows++;
    this.#groupRows++;
    const cols = this.columns;
    for (let c = 0; c < cols.length; c++) {
      const col = cols[c]!;
      if (col.byteSize >= this.#pageBytes) this.#cut(c);
    }
  }

  /** True when the row group is complete and `flush()` should be awaited. */
  get groupFull(): boolean {
    return this.#groupRows >= this.#rowGroupRows || this.#groupBytes >= this.#rowGroupBytes;
  }

  /** Writes the current row group out, if it has rows. */
  async flush(): Promise<void> {
    if (this.#groupRows === 0) return;
    await this.#start();
    for (let c = 0; c < this.columns.length; c++) {
      if (this.columns[c]!.numValues > 0) this.#cut(c);
    }
    const chunks = this.#chunks;
    this.#chunks = this.columns.map(() => ({ pages: [], numValues: 0 }));
    const groupRows = this.#groupRows;
    this.#groupRows = 0;
    this.#groupBytes = 0;

    const columnChunks: ThriftStruct[] = [];
    let groupStart = -1;
    let groupCompressed = 0;
    let groupUncompressed = 0;
    for (let c = 0; c < this.columns.length; c++) {
      const col = this.columns[c]!;
      const dictionary = col.dictionaryPage();
      const dictPage =
        dictionary === undefined ? undefined : await this.#compress(dictionary.body, dictionary.count, -1);
      const pages = await Promise.all(chunks[c]!.pages);
      const chunkStart = this.#offset;
      if (groupStart < 0) groupStart = chunkStart;
      let compressed = 0;
      let uncompressed = 0;
      const encodings = new Set([ENCODING_RLE]);
      for (const page of dictPage === undefined ? pages : [dictPage, ...pages]) {
        compressed += page.header.length + page.data.length;
        uncompressed += page.header.length + page.uncompressed;
        encodings.add(page.encoding < 0 ? ENCODING_PLAIN : page.encoding);
        await this.#write(page.header);
        await this.#write(page.data);
      }
      const dataStart =
        dictPage === undefined ? chunkStart : chunkStart + dictPage.header.length + dictPage.data.length;
      groupCompressed += compressed;
      groupUncompressed += uncompressed;
      columnChunks.push([
        [2, i64(chunkStart)],
        [
          3,
          struct([
            [1, i32(col.def.kind === "string" || col.def.kind === "list" ? TYPE_BYTE_ARRAY : TYPE_INT64)],
            [2, list("i32", [...encodings])],
            [3, list("binary", col.def.kind === "list" ? [col.def.name, "list", "element"] : [col.def.name])],
            [4, i32(CODEC_ZSTD)],
            [5, i64(chunks[c]!.numValues)],
            [6, i64(uncompressed)],
            [7, i64(compressed)],
            [9, i64(dataStart)],
            [11, dictPage === undefined ? undefined : i64(chunkStart)],
            [12, statistics(col)],
          ]),
        ],
      ]);
      col.resetChunk();
    }
    this.#rowGroups.push([
      [1, list("struct", columnChunks)],
      [2, i64(groupUncompressed)],
      [3, i64(groupRows)],
      [5, i64(groupStart)],
      [6, i64(groupCompressed)],
      [7, { t: "i32", v: this.#rowGroups.length }],
    ]);
  }

  /** Flushes the last row group and writes the footer. */
  async finish(): Promise<void> {
    try {
      await this.flush();
    } finally {
      this.close();
    }
    await this.#start();
    const footer = encodeStruct([
      [1, i32(1)],
      [2, list("struct", schemaElements(this.columns.map((c) => c.def)))],
      [3, i64(this.#rows)],
      [4, list("struct", this.#rowGroups)],
      [
        5,
        list(
          "struct",
          Object.entries(this.#keyValue).map(
            ([k, v]): ThriftStruct => [
              [1, binary(k)],
              [2, binary(v)],
            ],
          ),
        ),
      ],
      [6, binary(this.#createdBy)],
      // Every leaf sorts by its type's order, which lets readers use min/max of strings.
      [
        7,
        list(
          "struct",
          this.columns.map((): ThriftStruct => [[1, struct([])]]),
        ),
      ],
    ]);
    const tail = Buffer.allocUnsafe(8);
    tail.writeUInt32LE(footer.length, 0);
    MAGIC.copy(tail, 4);
    await this.#write(footer);
    await this.#write(tail);
  }

  /** Frees the compressors; `finish` does it, a writer given up on must. */
  close(): void {
    this.#releaseZstd();
  }

  async #start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await this.#write(MAGIC);
  }

  async #write(bytes: Buffer): Promise<void> {
    this.#offset += bytes.length;
    const pending = this.#sink(bytes);
    if (pending !== undefined) await pending;
  }

  #cut(c: number): void {
    const col = this.columns[c]!;
    const page = col.cutPage();
    this.#groupBytes += page.body.length;
    const chunk = this.#chunks[c]!;
    chunk.numValues += page.numValues;
    chunk.pages.push(this.#compressPage(page));
  }

  #compressPage(page: PageBody): Promise<Page> {
    return this.#compress(page.body, page.numValues, page.encoding);
  }

  /** A compressed page with its header; `encoding` -1 makes it the chunk's dictionary page. */
  async #compress(body: Buffer, numValues: number, encoding: number): Promise<Page> {
    const data = await this.#zstd.compress(body);
    const header = encodeStruct(
      encoding < 0
        ? [
            [1, i32(PAGE_DICTIONARY)],
            [2, i32(body.length)],
            [3, i32(data.length)],
            [
              7,
              struct([
                [1, i32(numValues)],
                [2, i32(ENCODING_PLAIN)],
              ]),
            ],
          ]
        : [
            [1, i32(PAGE_DATA)],
            [2, i32(body.length)],
            [3, i32(data.length)],
            [
              5,
              struct([
                [1, i32(numValues)],
                [2, i32(encoding)],
                [3, i32(ENCODING_RLE)],
                [4, i32(ENCODING_RLE)],
              ]),
            ],
          ],
    );
    return { header, data, uncompressed: body.length, encoding };
  }
}

function statistics(col: ColumnBuffer) {
  const fields: ThriftStruct = [[3, i64(col.chunkNulls)]];
  if (col.def.stats) {
    if (col.def.kind === "string" && col.minStr !== undefined && col.maxStr !== undefined) {
      fields.push([5, binary(col.maxStr)], [6, binary(col.minStr)]);
    } else if (col.def.kind !== "string" && col.minNum <= col.maxNum) {
      fields.push([5, binary(int64Bytes(col.maxNum))], [6, binary(int64Bytes(col.minNum))]);
    }
  }
  return struct(fields);
}

function int64Bytes(v: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigInt64LE(BigInt(v));
  return b;
}

/** The schema tree, flattened depth-first as the footer stores it. */
function schemaElements(defs: readonly ColumnDef[]): ThriftStruct[] {
  const out: ThriftStruct[] = [
    [
      [4, binary("schema")],
      [5, i32(defs.length)],
    ],
  ];
  for (const d of defs) {
    const repetition = d.nullable ? OPTIONAL : REQUIRED;
    if (d.kind === "list") {
      out.push(
        [
          [3, i32(REQUIRED)],
          [4, binary(d.name)],
          [5, i32(1)],
          [6, i32(CONVERTED_LIST)],
          [10, struct([[3, struct([])]])],
        ],
        [
          [3, i32(REPEATED)],
          [4, binary("list")],
          [5, i32(1)],
        ],
        [
          [1, i32(TYPE_BYTE_ARRAY)],
          [3, i32(REQUIRED)],
          [4, binary("element")],
          [6, i32(CONVERTED_UTF8)],
          [10, struct([[1, struct([])]])],
        ],
      );
    } else if (d.kind === "string") {
      out.push([
        [1, i32(TYPE_BYTE_ARRAY)],
        [3, i32(repetition)],
        [4, binary(d.name)],
        [6, i32(CONVERTED_UTF8)],
        [10, struct([[1, struct([])]])],
      ]);
    } else if (d.kind === "timestamp") {
      // TIMESTAMP(isAdjustedToUTC=false, MILLIS): a plain TIMESTAMP whose wall clock is UTC.
      out.push([
        [1, i32(TYPE_INT64)],
        [3, i32(repetition)],
        [4, binary(d.name)],
        [
          10,
          struct([
            [
              8,
              struct([
                [1, bool(false)],
                [2, struct([[1, struct([])]])],
              ]),
            ],
          ]),
        ],
      ]);
    } else {
      out.push([
        [1, i32(TYPE_INT64)],
        [3, i32(repetition)],
        [4, binary(d.name)],
      ]);
    }
  }
  return out;
}
