/**
 * Indexing: an archived hour's raw files → the message table, one Parquet file per raw file under
 * `tables/messages/chat_type=…/dt=…/hour=HH/{raw file name}.parquet`. Reads the hour's manifest
 * (the commit point) and nothing else; the table is derived, so writing it again is always safe.
 * A table file whose metadata names the raw file's GZip MD5 is left alone unless `rebuild`.
 */
import { PassThrough, type Readable } from "node:stream";
import { readManifest } from "../archive/manifest.ts";
import { IntegrityError, NotFoundError } from "../errors.ts";
import type { ChatType } from "../im/types.ts";
import type { ArchiveStore } from "../store/port.ts";
import type { MsgTime } from "../time/msgtime.ts";
import type { Logger } from "../util/log.ts";
import {
  type Convert,
  type ConvertOptions,
  convertHistoryToParquet,
  TABLE_META,
  type TableSource,
} from "./message-parquet.ts";
import { parquetKeyValue } from "./parquet-footer.ts";

export const TABLE_PREFIX = "tables/messages/";

/** `raw/chat_type=C2C/dt=…/hour=HH/name.gz` → `tables/messages/chat_type=C2C/dt=…/hour=HH/name.gz.parquet`. */
export function tableKeyOf(rawKey: string): string {
  if (!rawKey.startsWith("raw/")) throw new IntegrityError(`not a raw file key: ${rawKey}`, { key: rawKey });
  return `${TABLE_PREFIX}${rawKey.slice("raw/".length)}.parquet`;
}

export interface IndexDeps {
  store: ArchiveStore;
  logger?: Logger;
  /** Runs a file's conversion; default convertHistoryToParquet on this thread (TableWorkerPool: on a worker). */
  convert?: Convert;
}

export interface IndexOptions extends Omit<ConvertOptions, "check" | "expect"> {
  /** Write every table file again, even those whose source MD5 matches. */
  rebuild?: boolean;
  signal?: AbortSignal;
}

export type IndexOutcome =
  /** At least one table file written. */
  | "indexed"
  /** Every table file was there already, from the same raw bytes. */
  | "current"
  /** The hour is archived without files (empty or expired): nothing to index. */
  | "nothing"
  /** No manifest: the hour is not archived (yet). */
  | "not-archived";

export interface IndexedFile {
  rawKey: string;
  tableKey: string;
  /** Written now, or left as it was. */
  written: boolean;
  messages: number;
  /** Parquet bytes written (0 when left as it was). */
  bytes: number;
}

export interface IndexHourResult {
  chatType: ChatType;
  msgTime: MsgTime;
  outcome: IndexOutcome;
  files: IndexedFile[];
}

/**
 * Indexes one archived hour. Each file is checked while it is converted: its GZip MD5 must be the
 * manifest's and its message count the manifest's, else IntegrityError and no table file is left
 * for it (the store discards a put whose body fails).
 */
export async function indexHour(
  job: { chatType: ChatType; msgTime: MsgTime },
  deps: IndexDeps,
  options: IndexOptions = {},
): Promise<IndexHourResult> {
  const { chatType, msgTime } = job;
  const manifest = await readManifest(deps.store, chatType, msgTime);
  if (manifest === undefined) return { chatType, msgTime, outcome: "not-archived", files: [] };
  if (manifest.status !== "archived" || manifest.files.length === 0) {
    return { chatType, msgTime, outcome: "nothing", files: [] };
  }
  const files: IndexedFile[] = [];
  for (const file of manifest.files) {
    options.signal?.throwIfAborted();
    const tableKey = tableKeyOf(file.key);
    if (options.rebuild !== true) {
      const meta = await tableMeta(deps.store, tableKey);
      if (meta !== undefined && meta[TABLE_META.sourceGzipMd5] === file.gzipMd5) {
        files.push({
          rawKey: file.key,
          tableKey,
          written: false,
          messages: Number(meta[TABLE_META.messageCount]),
          bytes: 0,
        });
        continue;
      }
    }
    const started = Date.now();
    const { rebuild: _, signal, ...convertOptions } = options;
    const result = await writeTableFile(
      deps.store,
      deps.convert ?? convertHistoryToParquet,
      tableKey,
      await deps.store.get(file.key),
      { chatType, msgTime, sourceKey: file.key, gzipMd5: file.gzipMd5, fileMd5: file.fileMd5 },
      { ...convertOptions, expect: { gzipMd5: file.gzipMd5, messageCount: file.messageCount } },
      signal,
    );
    deps.logger?.info("table file written", {
      key: tableKey,
      messages: result.messages,
      bytes: result.bytes,
      ms: Date.now() - started,
    });
    files.push({ rawKey: file.key, tableKey, written: true, messages: result.messages, bytes: result.bytes });
  }
  return { chatType, msgTime, outcome: files.some((f) => f.written) ? "indexed" : "current", files };
}

/** The key-value metadata of a stored table file, or undefined when there is none (or it is unreadable). */
export async function tableMeta(
  store: ArchiveStore,
  key: string,
): Promise<Record<string, string> | undefined> {
  if ((await store.head(key)) === undefined) return undefined;
  try {
    return await parquetKeyValue(await store.get(key));
  } catch (err) {
    if (err instanceof NotFoundError || err instanceof IntegrityError) return undefined;
    throw err;
  }
}

async function writeTableFile(
  store: ArchiveStore,
  convert: Convert,
  key: string,
  gz: Readable,
  source: TableSource,
  options: Omit<ConvertOptions, "check">,
  signal: AbortSignal | undefined,
) {
  const body = new PassThrough({ highWaterMark: 4 * 1024 * 1024 });
  // The put owns the body's errors; this function learns of them through `putting`.
  body.on("error", () => {});
  const putting = store.put(key, body, { contentType: "application/vnd.apache.parquet" });
  // Awaited below; a failed conversion destroys the body, which fails the put (and leaves nothing).
  // A put that fails first ends the body, so that a conversion waiting for room stops at once.
  putting.catch(() => body.destroy());
  const write = (bytes: Uint8Array): Promise<void> | undefined => {
    if (body.destroyed) return putting.then(() => {});
    if (body.write(bytes)) return undefined;
    return new Promise<void>((resolve, reject) => {
      body.once("drain", resolve);
      body.once("close", () => putting.then(() => resolve(), reject));
    });
  };
  const abort = () => gz.destroy(signal?.reason ?? new Error("aborted"));
  signal?.addEventListener("abort", abort, { once: true });
  try {
    const result = await convert(gz, source, write, options);
    body.end();
    await putting;
    return result;
  } catch (err) {
    body.destroy(err as Error);
    gz.destroy();
    await putting.catch(() => {});
    throw err;
  } finally {
    signal?.removeEventListener("abort", abort);
  }
}
