/**
 * Raw history file → the message table's Parquet bytes, streaming: GZip in, one row per message,
 * Parquet out through a sink, with the row group as the unit of memory. The file's key-value
 * metadata names its source: the raw file's key, MD5s (as the manifest has them) and SHA-256 of the
 * GZip bytes read, so a table file can always be traced to, and checked against, the raw file.
 */
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { HistoryFormatError, IntegrityError } from "../errors.ts";
import { HistoryParser } from "../history/parser.ts";
import { rawGunzipChunks } from "../verify/raw-gunzip.ts";
import { MessageRowWriter } from "./message-row-writer.ts";
import type { ColumnDef } from "./parquet-columns.ts";
import { ParquetWriter, type ParquetWriterOptions } from "./parquet-writer.ts";
import { fileRowFields, type MessageColumn, type RowSource } from "./rows.ts";

/** The table's Parquet schema, in MESSAGE_COLUMNS order. */
export const MESSAGE_SCHEMA: readonly (ColumnDef & { name: MessageColumn })[] = [
  { name: "chat_type", kind: "string", nullable: false, stats: true, dictionary: true },
  { name: "msg_time", kind: "string", nullable: false, stats: true, dictionary: true },
  { name: "dt", kind: "string", nullable: false, stats: true, dictionary: true },
  { name: "hour", kind: "string", nullable: false, stats: true, dictionary: true },
  { name: "msg_timestamp", kind: "int64", nullable: true, stats: true },
  { name: "ts", kind: "timestamp", nullable: true, stats: true },
  { name: "from_account", kind: "string", nullable: true, stats: false, dictionary: true },
  { name: "to_account", kind: "string", nullable: true, stats: false, dictionary: true },
  { name: "group_id", kind: "string", nullable: true, stats: false, dictionary: true },
  { name: "conversation", kind: "string", nullable: true, stats: false },
  { name: "msg_seq", kind: "int64", nullable: true, stats: true },
  { name: "msg_random", kind: "int64", nullable: true, stats: false },
  { name: "msg_types", kind: "list", nullable: false, stats: false, dictionary: true },
  { name: "text", kind: "string", nullable: true, stats: false },
  { name: "media_urls", kind: "list", nullable: false, stats: false },
  { name: "raw", kind: "string", nullable: false, stats: false },
  { name: "source_key", kind: "string", nullable: false, stats: true, dictionary: true },
  { name: "line", kind: "int64", nullable: false, stats: true },
];

/** Key-value metadata keys of a table file. */
export const TABLE_META = {
  version: "imvault.table_version",
  sourceKey: "imvault.source_key",
  sourceGzipMd5: "imvault.source_gzip_md5",
  sourceFileMd5: "imvault.source_file_md5",
  sourceGzipSha256: "imvault.source_gzip_sha256",
  messageCount: "imvault.message_count",
} as const;

export const TABLE_VERSION = "1";

/** Plain bytes inflated per step: each step is a round trip to a libuv thread and back. */
const GUNZIP_CHUNK = 256 * 1024;

export interface TableSource extends RowSource {
  /** The manifest's figures of the raw file. */
  gzipMd5: string;
  fileMd5: string;
}

export interface TableFileResult {
  messages: number;
  /** Bytes of Parquet written. */
  bytes: number;
  gzipBytes: number;
  gzipSha256: string;
}

export type ConvertOptions = Pick<
  ParquetWriterOptions,
  "pageBytes" | "rowGroupRows" | "rowGroupBytes" | "zstdLevel"
> & {
  /** Called once every message is read, before the footer: throw to refuse the file. */
  check?: (read: { gzipMd5: string; messages: number }) => void;
  /** What the raw file must hold (its manifest's figures), checked as `check` is: else IntegrityError. */
  expect?: ConvertExpect;
};

export interface ConvertExpect {
  gzipMd5: string;
  messageCount: number;
}

/** A conversion: convertHistoryToParquet itself, or one that runs it on a worker thread. */
export type Convert = (
  gz: Readable,
  source: TableSource,
  sink: (bytes: Buffer) => void | Promise<void>,
  options: Omit<ConvertOptions, "check">,
) => Promise<TableFileResult>;

/** The checks of `expect`: the GZip MD5 and the message count of the file read. */
export function checkRead(
  sourceKey: string,
  expect: ConvertExpect,
  read: { gzipMd5: string; messages: number },
): void {
  if (read.gzipMd5 !== expect.gzipMd5) {
    throw new IntegrityError(
      `${sourceKey}: GZip MD5 ${read.gzipMd5} is not the manifest's ${expect.gzipMd5}`,
      {
        key: sourceKey,
      },
    );
  }
  if (read.messages !== expect.messageCount) {
    throw new IntegrityError(
      `${sourceKey}: ${read.messages} messages, the manifest says ${expect.messageCount}`,
      {
        key: sourceKey,
      },
    );
  }
}

/**
 * Reads the GZip history `gz` and writes its table file to `sink` (each call's Promise awaited).
 * Throws HistoryFormatError when the file is not a complete history file, and whatever
 * `options.check` throws. Nothing partial is final: the caller discards the sink's bytes on a throw.
 */
export async function convertHistoryToParquet(
  gz: Readable | AsyncIterable<Uint8Array>,
  source: TableSource,
  sink: (bytes: Buffer) => void | Promise<void>,
  options: ConvertOptions = {},
): Promise<TableFileResult> {
  const file = fileRowFields(source);
  const sha256 = createHash("sha256");
  const md5 = createHash("md5");
  let gzipBytes = 0;
  let bytes = 0;
  // The GZip bytes hashed as they come, then inflated raw: the MD5 checked against the manifest
  // covers the bytes, so the CRC-32 of the plain bytes, which zlib computes with a table, is skipped.
  const plain = rawGunzipChunks(
    (async function* () {
      for await (const chunk of gz as AsyncIterable<Uint8Array>) {
        sha256.update(chunk);
        md5.update(chunk);
        gzipBytes += chunk.length;
        yield chunk;
      }
    })(),
    GUNZIP_CHUNK,
  );
  const keyValue: Record<string, string> = {};
  const writer = new ParquetWriter(
    MESSAGE_SCHEMA,
    (b) => {
      bytes += b.length;
      return sink(b);
    },
    {
      ...(options.pageBytes === undefined ? {} : { pageBytes: options.pageBytes }),
      ...(options.rowGroupRows === undefined ? {} : { rowGroupRows: options.rowGroupRows }),
      ...(options.rowGroupBytes === undefined ? {} : { rowGroupBytes: options.rowGroupBytes }),
      ...(options.zstdLevel === undefined ? {} : { zstdLevel: options.zstdLevel }),
      keyValue,
    },
  );
  const rows = new MessageRowWriter(writer, file);
  const parser = new HistoryParser({ messageBytes: rows });
  try {
    for await (const chunk of plain) {
      parser.push(chunk);
      if (writer.groupFull) await writer.flush();
    }
    const summary = parser.end();
    if (summary.messageCount !== writer.rows) {
      throw new HistoryFormatError(summary.lines, "message count does not match the rows written");
    }
  } catch (err) {
    writer.close();
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code === "string" && code.startsWith("Z_")) {
      throw new HistoryFormatError(parser.linesSeen + 1, `corrupt GZip data (${code})`);
    }
    throw err;
  } finally {
    await plain.return();
  }
  const gzipSha256 = sha256.digest("hex");
  const read = { gzipMd5: md5.digest("hex"), messages: writer.rows };
  if (options.expect !== undefined) checkRead(source.sourceKey, options.expect, read);
  options.check?.(read);
  Object.assign(keyValue, {
    [TABLE_META.version]: TABLE_VERSION,
    [TABLE_META.sourceKey]: source.sourceKey,
    [TABLE_META.sourceGzipMd5]: source.gzipMd5,
    [TABLE_META.sourceFileMd5]: source.fileMd5,
    [TABLE_META.sourceGzipSha256]: gzipSha256,
    [TABLE_META.messageCount]: String(writer.rows),
  });
  await writer.finish();
  return { messages: writer.rows, bytes, gzipBytes, gzipSha256 };
}
