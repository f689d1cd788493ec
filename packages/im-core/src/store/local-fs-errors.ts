import { mkdir, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { StoreUnavailableError } from "../errors.ts";

/** Archived files are private to their owner, like the API key file: 0600, directories 0700. */
export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;

/** File-system failures that trying again will not fix, and how to say them. */
const PERMANENT: Readonly<Record<string, string>> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOTDIR: "not a directory",
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
};

export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/**
 * `error` as a StoreUnavailableError naming `path` and the cause when that cause is permanent (see
 * PERMANENT); any other error unchanged, e.g. a body's own error, which a put passes on as it is.
 */
export function storeFailure(error: unknown, path: string, action: "read" | "write"): unknown {
  if (error instanceof StoreUnavailableError) return error;
  const code = errorCode(error);
  const reason = code === undefined ? undefined : PERMANENT[code];
  if (code === undefined || reason === undefined) return error;
  const culprit = (error as { path?: unknown }).path;
  const where = typeof culprit === "string" && culprit !== path ? ` at ${culprit}` : "";
  return new StoreUnavailableError(`the local store cannot ${action} ${path}: ${reason}${where} (${code})`, {
    code,
    path: typeof culprit === "string" ? culprit : path,
    cause: error,
  });
}

/** Creates `path` and its missing parents (0700); a permanent failure as a StoreUnavailableError. */
export async function ensureDir(path: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true, mode: DIR_MODE });
  } catch (error) {
    throw storeFailure(await realMkdirError(path, error), path, "write");
  }
}

/**
 * Node's recursive mkdir answers ENOENT when it cannot make a parent, whatever the reason (a
 * read-only file system, say). The real cause shows when the missing directories are made one at a
 * time, from the top; a regular file in the way is named as the ENOTDIR it is.
 */
async function realMkdirError(path: string, error: unknown): Promise<unknown> {
  const missing: string[] = [];
  let dir = path;
  for (;;) {
    try {
      const info = await stat(dir);
      if (info.isDirectory()) break;
      return Object.assign(new Error(`${dir} is not a directory`), { code: "ENOTDIR", path: dir });
    } catch (statError) {
      const code = errorCode(statError);
      const parent = dirname(dir);
      if ((code !== "ENOENT" && code !== "ENOTDIR") || parent === dir) return statError;
      missing.unshift(dir);
      dir = parent;
    }
  }
  for (const each of missing) {
    try {
      await mkdir(each, { mode: DIR_MODE });
    } catch (mkdirError) {
      if (errorCode(mkdirError) !== "EEXIST") return mkdirError;
    }
  }
  return error;
}
