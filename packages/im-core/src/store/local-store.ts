import { randomUUID } from "node:crypto";
import type { Dirent } from "node:fs";
import { link, mkdir, open, readdir, rename, rm, stat, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { AlreadyExistsError, ImvaultError, NotFoundError, ValidationError } from "../errors.ts";
import type { ArchiveStore, ObjectInfo } from "./port.ts";

/** Local state that is not archive data lives here (SPEC "Storage layout"); list() never shows it. */
export const LOCAL_STATE_DIR = ".imvault";
const TEMP_DIR = join(LOCAL_STATE_DIR, "tmp");
const TEMP_SUFFIX = ".part";
/** A temp file this old can only belong to a process that died mid-put (puts keep touching theirs). */
export const DEFAULT_TEMP_MAX_AGE_MS = 60 * 60 * 1000;

export interface LocalStoreOptions {
  root: string;
  /** Makes the URL `signedUrl` answers, e.g. one served by the local API. Without it signedUrl throws. */
  urlFor?: (key: string, ttlSeconds: number) => Promise<string> | string;
  /** For cleanupTemp's age test; defaults to Date.now. */
  now?: () => number;
}

export interface LocalArchiveStore extends ArchiveStore {
  readonly root: string;
  /** Removes temp files older than `olderThanMs` left by a killed process; answers how many. */
  cleanupTemp(olderThanMs?: number): Promise<number>;
}

/** An ArchiveStore on a directory: key `a/b/c` is the file `<root>/a/b/c`. */
export function createLocalStore(options: LocalStoreOptions): LocalArchiveStore {
  const { root, urlFor } = options;
  const now = options.now ?? Date.now;
  const tempDir = join(root, TEMP_DIR);

  const pathOf = (key: string): string => join(root, ...checkKey(key).split("/"));

  async function writeTemp(body: Readable | Buffer | string): Promise<{ tempPath: string; size: number }> {
    await mkdir(tempDir, { recursive: true });
    // The writer's PID in the name lets a later start tell a dead writer's leftovers from live work.
    const tempPath = join(tempDir, `${process.pid}.${randomUUID()}${TEMP_SUFFIX}`);
    const file = await open(tempPath, "wx");
    let size = 0;
    try {
      if (typeof body === "string" || Buffer.isBuffer(body)) {
        const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
        await file.writeFile(bytes);
        size = bytes.length;
      } else {
        size = await writeInBatches(file, body);
      }
      await file.sync();
      await file.close();
    } catch (error) {
      await file.close().catch(() => {});
      await rm(tempPath, { force: true });
      if (typeof body === "object" && !Buffer.isBuffer(body)) body.destroy();
      throw error;
    }
    return { tempPath, size };
  }

  return {
    root,

    async put(key, body, putOptions = {}) {
      const target = pathOf(key);
      const { tempPath, size } = await writeTemp(body);
      try {
        await mkdir(dirname(target), { recursive: true });
        if (putOptions.ifNoneMatch) {
          // link() never replaces an existing name: the atomic "create only if absent".
          try {
            await link(tempPath, target);
          } catch (error) {
            if (errorCode(error) === "EEXIST") {
              throw new AlreadyExistsError(`an object already exists at ${key}`, { details: { key } });
            }
            throw error;
          }
          await unlink(tempPath);
        } else {
          await rename(tempPath, target);
        }
      } catch (error) {
        await rm(tempPath, { force: true });
        throw error;
      }
      await syncDir(dirname(target));
      return { size };
    },

    async get(key) {
      const path = pathOf(key);
      let file: Awaited<ReturnType<typeof open>>;
      try {
        file = await open(path, "r");
      } catch (error) {
        if (isMissing(error)) throw new NotFoundError(`no object at ${key}`, { details: { key } });
        throw error;
      }
      const info = await file.stat().catch(async (error: unknown) => {
        await file.close();
        throw error;
      });
      if (!info.isFile()) {
        await file.close();
        throw new NotFoundError(`no object at ${key}`, { details: { key } });
      }
      return file.createReadStream();
    },

    async head(key) {
      try {
        const info = await stat(pathOf(key));
        return info.isFile() ? { key, size: info.size, lastModified: info.mtime } : undefined;
      } catch (error) {
        if (isMissing(error)) return undefined;
        throw error;
      }
    },

    list(prefix) {
      return walkPrefix(root, checkPrefix(prefix));
    },

    async delete(key) {
      try {
        await unlink(pathOf(key));
      } catch (error) {
        if (!isMissing(error)) throw error;
      }
    },

    async signedUrl(key, ttlSeconds) {
      checkKey(key);
      if (urlFor === undefined) {
        throw new ImvaultError("the local store cannot sign URLs: it was created without urlFor", {
          details: { key },
        });
      }
      return urlFor(key, ttlSeconds);
    },

    cleanupTemp(olderThanMs = DEFAULT_TEMP_MAX_AGE_MS) {
      return cleanupLocalTemp(root, olderThanMs, now);
    },
  };
}

/**
 * Removes `<root>/.imvault/tmp` files left by a process that is no longer running (e.g. killed with
 * kill -9 mid-put), and any not modified for `olderThanMs`; answers how many it removed.
 */
export async function cleanupLocalTemp(
  root: string,
  olderThanMs: number = DEFAULT_TEMP_MAX_AGE_MS,
  now: () => number = Date.now,
): Promise<number> {
  const tempDir = join(root, TEMP_DIR);
  let names: string[];
  try {
    names = await readdir(tempDir);
  } catch (error) {
    if (isMissing(error)) return 0;
    throw error;
  }
  const cutoff = now() - olderThanMs;
  let removed = 0;
  for (const name of names) {
    if (!name.endsWith(TEMP_SUFFIX)) continue;
    const path = join(tempDir, name);
    try {
      const info = await stat(path);
      if (info.isFile() && (info.mtimeMs <= cutoff || writerIsGone(name))) {
        await unlink(path);
        removed += 1;
      }
    } catch (error) {
      // Gone meanwhile: its put finished or failed.
      if (!isMissing(error)) throw error;
    }
  }
  return removed;
}

/** True when the temp file names a writer PID that is not a running process (ours never counts). */
function writerIsGone(name: string): boolean {
  const pid = Number(name.split(".", 1)[0]);
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/** Keys are relative, `/`-separated, with no empty, `.` or `..` segment, no backslash or NUL. */
function checkKey(key: string): string {
  const problem = keyProblem(key);
  if (problem !== undefined) throw new ValidationError(`invalid storage key: ${problem}`, { key });
  if (key === LOCAL_STATE_DIR || key.startsWith(`${LOCAL_STATE_DIR}/`)) {
    throw new ValidationError(`invalid storage key: ${LOCAL_STATE_DIR}/ is reserved`, { key });
  }
  return key;
}

function keyProblem(key: string): string | undefined {
  if (key === "") return "empty";
  if (key.startsWith("/")) return "absolute";
  if (key.includes("\\")) return "backslash";
  if (key.includes("\0")) return "NUL character";
  for (const segment of key.split("/")) {
    if (segment === "") return "empty segment";
    if (segment === "." || segment === "..") return "dot segment";
  }
  return undefined;
}

/** A prefix is a key's beginning: it may be empty or end in `/`, the rest is as for keys. */
function checkPrefix(prefix: string): string {
  if (prefix === "") return prefix;
  const problem = keyProblem(prefix.endsWith("/") ? prefix.slice(0, -1) : prefix);
  if (problem !== undefined) throw new ValidationError(`invalid storage prefix: ${problem}`, { prefix });
  return prefix;
}

/**
 * Every file whose key starts with `prefix`, in S3's order (UTF-8 byte order of whole keys). Sorting
 * a directory's entries by name, with `/` appended to directories, yields exactly that order.
 */
async function* walkPrefix(root: string, prefix: string): AsyncGenerator<ObjectInfo> {
  const slash = prefix.lastIndexOf("/");
  const baseKey = slash === -1 ? "" : prefix.slice(0, slash + 1);
  yield* walk(root, baseKey, prefix);
}

async function* walk(root: string, dirKey: string, prefix: string): AsyncGenerator<ObjectInfo> {
  let entries: Dirent[];
  try {
    entries = await readdir(join(root, ...dirKey.split("/")), { withFileTypes: true });
  } catch (error) {
    if (isMissing(error)) return;
    throw error;
  }
  const named = entries
    .filter((entry) => !(dirKey === "" && entry.name === LOCAL_STATE_DIR))
    .map((entry) => ({ entry, sortKey: Buffer.from(entry.name + (entry.isDirectory() ? "/" : ""), "utf8") }))
    .sort((a, b) => Buffer.compare(a.sortKey, b.sortKey));
  for (const { entry } of named) {
    const key = dirKey + entry.name;
    if (entry.isDirectory()) {
      const subKey = `${key}/`;
      if (subKey.startsWith(prefix) || prefix.startsWith(subKey)) yield* walk(root, subKey, prefix);
    } else if (entry.isFile() && key.startsWith(prefix)) {
      try {
        const info = await stat(join(root, ...key.split("/")));
        yield { key, size: info.size, lastModified: info.mtime };
      } catch (error) {
        // Deleted between readdir and stat: S3 would not list it either.
        if (!isMissing(error)) throw error;
      }
    }
  }
}

/** Makes a rename durable; some platforms cannot open a directory, which only costs durability. */
async function syncDir(path: string): Promise<void> {
  try {
    const dir = await open(path, "r");
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    // Best effort.
  }
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

function isMissing(error: unknown): boolean {
  const code = errorCode(error);
  return code === "ENOENT" || code === "ENOTDIR";
}

/**
 * Chunks are gathered and written with one `writev` per WRITE_BATCH_BYTES, the next batch gathering
 * while the previous one is written. A download arrives in small chunks, and every fs/promises call
 * has a fixed cost on the calling thread (the main one), so writing chunk by chunk cost several times
 * the main-thread CPU of batched writes (bench/README.md, "Local store"). Memory stays at two
 * batches: awaiting the write in flight before starting the next is the backpressure.
 */
const WRITE_BATCH_BYTES = 1024 * 1024;

/**
 * Bytes written between two fdatasyncs started in the background while the file is still arriving,
 * so that the fsync at the end, which the file's commit waits for, has at most this much left to
 * flush (bench/README.md, "Local store").
 */
const SYNC_EVERY_BYTES = 4 * 1024 * 1024;

/** The part of a FileHandle that writeInBatches uses. */
interface BatchWriter {
  writev(buffers: Buffer[]): Promise<{ bytesWritten: number }>;
  datasync(): Promise<void>;
}

/** Exported for its tests. */
export async function writeInBatches(
  file: BatchWriter,
  body: AsyncIterable<unknown>,
  syncEveryBytes = SYNC_EVERY_BYTES,
): Promise<number> {
  let size = 0;
  let batch: Buffer[] = [];
  let batchBytes = 0;
  let unsynced = 0;
  let writing: Promise<unknown> = Promise.resolve();
  // The background fdatasyncs, chained: a failed one fails the put at the end (and starts no more).
  let syncing: Promise<unknown> = Promise.resolve();
  let syncInFlight = false;
  for await (const chunk of body) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : (chunk as Buffer);
    batch.push(bytes);
    batchBytes += bytes.length;
    size += bytes.length;
    if (batchBytes >= WRITE_BATCH_BYTES) {
      await writing;
      writing = writeAll(file, batch);
      // Its failure is thrown by the next `await writing`; until then it must not count as unhandled.
      writing.catch(() => {});
      unsynced += batchBytes;
      if (unsynced >= syncEveryBytes && !syncInFlight) {
        // Once this batch is written; the next ones are written meanwhile.
        syncInFlight = true;
        syncing = Promise.all([syncing, writing.then(() => file.datasync())]).then(() => {
          syncInFlight = false;
        });
        syncing.catch(() => {});
        unsynced = 0;
      }
      batch = [];
      batchBytes = 0;
    }
  }
  await writing;
  if (batch.length > 0) await writeAll(file, batch);
  await syncing;
  return size;
}

/** One writev may write less than it was given (it is one system call): write the rest until done. */
async function writeAll(file: BatchWriter, buffers: Buffer[]): Promise<void> {
  let left = buffers;
  for (;;) {
    const { bytesWritten } = await file.writev(left);
    let skip = bytesWritten;
    while (left.length > 0 && skip >= left[0]!.length) skip -= left.shift()!.length;
    if (left.length === 0) return;
    if (bytesWritten === 0) throw new Error("writev wrote nothing");
    left = [left[0]!.subarray(skip), ...left.slice(1)];
  }
}
