import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { AlreadyExistsError, ImvaultError, NotFoundError, StoreUnavailableError } from "../errors.ts";
import type { HistoryFile } from "../im/types.ts";
import type { ArchiveStore } from "../store/port.ts";
import type { AllowList } from "../util/allow-list.ts";
import { createVerifier, type VerifiedFigures } from "../verify/verifier.ts";
import { openDownload } from "./download.ts";
import { withoutQuery } from "./layout.ts";
import type { Manifest } from "./manifest.ts";

/**
 * How an attempt at an hour shares its raw keys with other attempts at the same hour (a job SQS
 * delivers twice, two `imvault archive` runs). Files are stored create-only, so no attempt ever
 * replaces or removes a file that a committed manifest names; these helpers settle what happens when
 * the key is already taken, and clear what dead attempts left once the hour is committed.
 */

/** What one attempt at a file needs. */
export interface StoreFileDeps {
  store: ArchiveStore;
  fetch?: typeof fetch | undefined;
  config: { downloadHosts: AllowList; idleTimeoutMs: number };
}

/** The key holds other verified bytes than this file's; the next attempt stores under contentKey. */
export class KeyTakenError extends ImvaultError {}

/**
 * One attempt: download `file` through the verifier into a create-only put at `key`, and answer the
 * verified figures. If the key is taken (another attempt at the hour stored the file first, or one
 * that died before its manifest), the object there is kept when it holds the same verified bytes,
 * and never replaced when it does not.
 */
export async function downloadAndStore(
  file: HistoryFile,
  key: string,
  deps: StoreFileDeps,
  signal: AbortSignal | undefined,
): Promise<VerifiedFigures> {
  const { stream, figures } = createVerifier(file);
  // The store consumes the verifier; the verifier only ends once all four figures match, so a bad
  // file makes `put` reject and nothing appears under the key. The put starts before the download
  // answers, so that the store gets ready (the local store opens its temp file) while the request is
  // on its way, not while the first bytes wait.
  const put = deps.store.put(key, stream, { ifNoneMatch: true });
  // A store that fails before it has read the verifier to the end must stop the download too, or
  // the download waits forever for the verifier to drain. That may happen before the download is
  // piped in: the verifier's error is heard here and reported by `put`, `figures` and the pipeline.
  stream.on("error", () => {});
  put.catch((err: unknown) => {
    if (!stream.writableFinished) stream.destroy(err instanceof Error ? err : new Error(String(err)));
  });
  let body: Readable;
  try {
    body = await openDownload(file.url, {
      fetch: deps.fetch,
      allowedHosts: deps.config.downloadHosts,
      idleTimeoutMs: deps.config.idleTimeoutMs,
      signal,
    });
  } catch (err) {
    // Nothing was downloaded: the store discards what it began before the error goes on. No error
    // to destroy with: the store may not listen yet, and the download's error is thrown.
    stream.destroy();
    const stored = await put.then(
      () => undefined,
      (e: unknown) => e,
    );
    throw stored instanceof StoreUnavailableError ? stored : err;
  }
  // A pipeline into a verifier the store has already destroyed rejects without touching the
  // download: end it here, or it stays open and errors later with nobody listening.
  const piping = pipeline(body, stream).catch((err: unknown) => {
    body.destroy();
    throw err;
  });
  // allSettled, not all: a failed attempt must wait for the store to finish discarding the file.
  const [piped, stored, verified] = await Promise.allSettled([piping, put, figures]);
  if (stored.status === "rejected" && stored.reason instanceof StoreUnavailableError) throw stored.reason;
  if (
    stored.status === "rejected" &&
    stored.reason instanceof AlreadyExistsError &&
    verified.status === "fulfilled"
  ) {
    const there = await compareStored(deps.store, key, verified.value);
    if (there === "same") return verified.value;
    if (there === "different") {
      throw new KeyTakenError(`${key} holds other verified bytes than ${withoutQuery(file.url)}`, {
        retryable: true,
        details: { key },
      });
    }
    throw new ImvaultError(`${key} was taken, then gone before it could be compared`, {
      retryable: true,
      details: { key },
    });
  }
  for (const r of [piped, stored]) if (r.status === "rejected") throw r.reason;
  if (verified.status === "rejected") throw verified.reason;
  return verified.value;
}

/** What a key holds, measured against a verified file: the same bytes, others, or nothing. */
export type StoredCopy = "same" | "different" | "missing";

/**
 * Compares the object at `key` with a file's verified GZip size and MD5, reading it once: when a
 * create-only put found the key taken, by another attempt at the hour or one that died before its
 * manifest. Either way the bytes there were verified against Tencent's figures before they appeared.
 */
export async function compareStored(
  store: ArchiveStore,
  key: string,
  expected: { gzipSize: number; gzipMd5: string },
): Promise<StoredCopy> {
  const info = await store.head(key);
  if (info === undefined) return "missing";
  if (info.size !== expected.gzipSize) return "different";
  const hash = createHash("md5");
  try {
    for await (const chunk of await store.get(key)) hash.update(chunk as Buffer);
  } catch (error) {
    if (error instanceof NotFoundError) return "missing";
    throw error;
  }
  return hash.digest("hex") === expected.gzipMd5 ? "same" : "different";
}

/**
 * The key a file takes when its own holds other verified bytes (Tencent served an earlier attempt a
 * different file of that name): its GZip MD5 before the name, which no other bytes can ever claim.
 * The stale object stays untouched until the hour is committed without naming it.
 */
export function contentKey(key: string, gzipMd5: string): string {
  const slash = key.lastIndexOf("/");
  return `${key.slice(0, slash + 1)}${gzipMd5}-${key.slice(slash + 1)}`;
}

/**
 * Removes the objects under the hour's raw prefix that its committed manifest does not name: what
 * attempts that died before their manifest left. Only once the manifest exists, which never changes:
 * a key it does not name can never be named by it. Answers the keys removed.
 */
export async function removeUnnamed(
  store: ArchiveStore,
  prefix: string,
  manifest: Manifest,
): Promise<string[]> {
  const named = new Set(manifest.files.map((f) => f.key));
  const removed: string[] = [];
  for await (const obj of store.list(prefix)) {
    if (named.has(obj.key)) continue;
    await store.delete(obj.key);
    removed.push(obj.key);
  }
  return removed;
}
