import { randomUUID } from "node:crypto";
import type { Dirent } from "node:fs";
import { link, open, readdir, rename, rm, stat, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import {
  AlreadyExistsError,
  ImvaultError,
  LegalHoldError,
  NotFoundError,
  ValidationError,
} from "../errors.ts";
import { copyLocalFile, readLocalFile } from "./copy-to-file.ts";
import { writeInBatches } from "./local-batched-write.ts";
import { syncDir, syncDirs } from "./local-dir-sync.ts";
import { ensureDir, errorCode, FILE_MODE, storeFailure } from "./local-fs-errors.ts";
import { isHeld, setHoldMarker } from "./local-holds.ts";
import type { ArchiveStore, ObjectInfo, PutOptions } from "./port.ts";

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
  /**
   * Makes and removes a temp file: rejects with a StoreUnavailableError naming the path and cause
   * when the store cannot be written at all, so that a long-running process can refuse to start.
   */
  checkWritable(): Promise<void>;
  /** Removes temp files older than `olderThanMs` left by a killed process; answers how many. */
  cleanupTemp(olderThanMs?: number): Promise<number>;
}

/**
 * An ArchiveStore on a directory: key `a/b/c` is the file `<root>/a/b/c`, readable by the owner only
 * (files 0600, directories 0700). A failure that trying again cannot fix (no permission, a read-only
 * file system, a regular file in the path, a full disk) is a StoreUnavailableError naming the path.
 */
export function createLocalStore(options: LocalStoreOptions): LocalArchiveStore {
  const { root, urlFor } = options;
  const now = options.now ?? Date.now;
  const tempDir = join(root, TEMP_DIR);

  const pathOf = (key: string): string => join(root, ...checkKey(key).split("/"));

  /**
   * Directories this store made or found, so that a put does not ask for them again (a recursive
   * mkdir per put was a measurable share of a small object's cost, bench/README.md "Media capture").
   * One removed behind the store's back shows as ENOENT and is made again (withDir).
   */
  const knownDirs = new Set<string>();
  /** Directories whose new entries a deferred put left for syncDeferred to make durable. */
  let unsyncedDirs = new Set<string>();
  /**
   * Every syncDeferred call's fsyncs so far: a call resolves only once those of the calls before it
   * are done too, as they took directories that its puts may have made (two hours captured at once).
   */
  let dirsSynced: Promise<void> = Promise.resolve();

  /**
   * Runs `write` (which creates an entry in `dir`) once `dir` exists. Answers whether the directory
   * was new to this store: a deferred put then also leaves its parents' entries for syncDeferred.
   */
  async function withDir<T>(dir: string, write: () => Promise<T>): Promise<{ value: T; fresh: boolean }> {
    let fresh = false;
    if (!knownDirs.has(dir)) {
      await ensureDir(dir);
      knownDirs.add(dir);
      fresh = true;
    }
    try {
      return { value: await write(), fresh };
    } catch (error) {
      if (errorCode(error) !== "ENOENT") throw error;
      knownDirs.delete(dir);
      await ensureDir(dir);
      knownDirs.add(dir);
      return { value: await write(), fresh: true };
    }
  }

  async function writeTemp(body: Readable | Buffer | string): Promise<{ tempPath: string; size: number }> {
    // The writer's PID in the name lets a later start tell a dead writer's leftovers from live work.
    const tempPath = join(tempDir, `${process.pid}.${randomUUID()}${TEMP_SUFFIX}`);
    const { value: file } = await withDir(tempDir, () => open(tempPath, "wx", FILE_MODE));
    let size = 0;
    try {
      if (typeof body === "string" || Buffer.isBuffer(body)) {
        const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
        await file.writeFile(bytes);
        size = bytes.length;
      } else {
        size = await writeInBatches(file, body);
      }
      // Always before the name appears, deferred or not: a name a power loss leaves behind never
      // points at bytes that did not reach the disk.
      await file.sync();
      await file.close();
    } catch (error) {
      await file.close().catch(() => {});
      await rm(tempPath, { force: true });
      throw error;
    }
    return { tempPath, size };
  }

  async function putAt(
    key: string,
    target: string,
    body: Readable | Buffer | string,
    putOptions: PutOptions,
  ): Promise<{ size: number }> {
    const { tempPath, size } = await writeTemp(body);
    const dir = dirname(target);
    let fresh: boolean;
    try {
      if (putOptions.ifNoneMatch) {
        // link() never replaces an existing name: the atomic "create only if absent".
        ({ fresh } = await withDir(dir, async () => {
          try {
            await link(tempPath, target);
          } catch (error) {
            if (errorCode(error) === "EEXIST") {
              throw new AlreadyExistsError(`an object already exists at ${key}`, { details: { key } });
            }
            throw error;
          }
        }));
        await unlink(tempPath);
      } else {
        // A held object is never replaced (S3 keeps the held version; here there is only one).
        if (await isHeld(root, key)) throw heldError(key, "replaced");
        ({ fresh } = await withDir(dir, () => rename(tempPath, target)));
      }
    } catch (error) {
      await rm(tempPath, { force: true });
      throw error;
    }
    if (putOptions.durability === "deferred") {
      unsyncedDirs.add(dir);
      // A directory made for this put is itself an entry of its parent (up to the root).
      if (fresh)
        for (let d = dir; d !== root && d.startsWith(root); d = dirname(d)) unsyncedDirs.add(dirname(d));
    } else {
      await syncDir(dir);
    }
    return { size };
  }

  return {
    root,

    async put(key, body, putOptions = {}) {
      let target = root;
      try {
        target = pathOf(key);
        return await putAt(key, target, body, putOptions);
      } catch (error) {
        const failure = storeFailure(error, target, "write");
        // Whatever feeds a body the store stopped reading must learn of it, or it waits forever. No
        // error to destroy with: the caller may not listen for one; this rejection tells the cause.
        if (body instanceof Readable && !body.readableEnded) body.destroy();
        throw failure;
      }
    },

    async syncDeferred() {
      const dirs = [...unsyncedDirs];
      unsyncedDirs = new Set();
      dirsSynced = Promise.all([dirsSynced, syncDirs(dirs)]).then(() => {});
      await dirsSynced;
    },

    async get(key) {
      return readLocalFile(key, pathOf(key));
    },

    async copyToFile(key, target) {
      return copyLocalFile(key, pathOf(key), target);
    },

    async head(key) {
      const path = pathOf(key);
      try {
        const info = await stat(path);
        return info.isFile() ? { key, size: info.size, lastModified: info.mtime } : undefined;
      } catch (error) {
        if (isMissing(error)) return undefined;
        throw storeFailure(error, path, "read");
      }
    },

    list(prefix) {
      return walkPrefix(root, checkPrefix(prefix));
    },

    async delete(key) {
      const path = pathOf(key);
      if (await isHeld(root, key)) throw heldError(key, "deleted");
      try {
        await unlink(path);
      } catch (error) {
        if (!isMissing(error)) throw storeFailure(error, path, "write");
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

    async setLegalHold(key, on) {
      const path = pathOf(key);
      const info = await stat(path).catch(() => undefined);
      if (on && info?.isFile() !== true) throw notFound(key);
      await setHoldMarker(root, key, on).catch((error: unknown) => {
        throw storeFailure(error, path, "write");
      });
    },

    async legalHold(key) {
      pathOf(key);
      return isHeld(root, key);
    },

    cleanupTemp(olderThanMs = DEFAULT_TEMP_MAX_AGE_MS) {
      return cleanupLocalTemp(root, olderThanMs, now);
    },

    async checkWritable() {
      const { tempPath } = await writeTemp("").catch((error: unknown) => {
        throw storeFailure(error, tempDir, "write");
      });
      await unlink(tempPath);
    },
  };
}

function notFound(key: string): NotFoundError {
  return new NotFoundError(`no object at ${key}`, { details: { key } });
}

function heldError(key: string, what: "deleted" | "replaced"): LegalHoldError {
  return new LegalHoldError(`${key} is under a legal hold: it cannot be ${what} until the hold is released`, {
    details: { key },
  });
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
    throw storeFailure(error, tempDir, "read");
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
  const dir = join(root, ...dirKey.split("/"));
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (isMissing(error)) return;
    throw storeFailure(error, dir, "read");
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

function isMissing(error: unknown): boolean {
  const code = errorCode(error);
  return code === "ENOENT" || code === "ENOTDIR";
}
