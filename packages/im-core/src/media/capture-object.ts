import { pipeline } from "node:stream/promises";
import {
  AlreadyExistsError,
  ImTransportError,
  ImvaultError,
  IntegrityError,
  MediaCaptureError,
  UrlNotAllowedError,
} from "../errors.ts";
import type { CosSigResult } from "../im/types.ts";
import type { ArchiveStore, PutOptions } from "../store/port.ts";
import type { AllowList } from "../util/allow-list.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import { type Digest, DigestStream, digestOf, digestOfBytes } from "./digest.ts";
import { type MediaResponse, openMediaDownload } from "./download.ts";
import { type MediaIndexEntry, readMediaIndexEntry } from "./manifest.ts";
import type { PreSigner } from "./signer.ts";

/** The settings one object's capture needs (a subset of MediaConfig). */
export interface ObjectConfig {
  downloadHosts: AllowList;
  idleTimeoutMs: number;
  maxAttempts: number;
  retryBaseDelayMs: number;
  presignMarginMs: number;
  wholeUpTo: number;
}

export interface ObjectContext {
  store: ArchiveStore;
  signer: PreSigner;
  fetch?: typeof fetch | undefined;
  clock: Clock;
  logger: Logger;
  random: () => number;
  config: ObjectConfig;
  /** Called for every failed download attempt that is tried again. */
  onRetry(): void;
}

export type TencentStatus = 0 | 1 | 2;

export type ObjectOutcome =
  | {
      status: "captured";
      tencentStatus: TencentStatus | undefined;
      size: number;
      sha256: string;
      contentType: string | undefined;
      /** Downloaded and stored by this run, or found stored already. */
      how: "fetched" | "reused";
      /** Bytes downloaded for it by this run (0 when reused without a download). */
      bytes: number;
      /**
       * The index entry to record for it, when it has none yet: written by the hour, with the
       * others, before its manifest (see captureHourMedia).
       */
      entry?: MediaIndexEntry;
    }
  | { status: "missing" }
  | { status: "refused"; reason: string; tencentStatus: TencentStatus | undefined };

/** What the store holds at a key: nothing, an object with its index entry, or an object without one. */
export type StoredObject =
  | { kind: "absent" }
  | { kind: "indexed"; entry: MediaIndexEntry }
  | { kind: "unindexed"; size: number };

export async function lookUpStored(store: ArchiveStore, key: string, logger: Logger): Promise<StoredObject> {
  const info = await store.head(key);
  if (info === undefined) return { kind: "absent" };
  let entry: MediaIndexEntry | undefined;
  try {
    entry = await readMediaIndexEntry(store, key);
  } catch (err) {
    if (!(err instanceof IntegrityError)) throw err;
    logger.warn("media index entry unreadable: the stored object is hashed again", { key });
  }
  if (entry !== undefined && entry.size === info.size) return { kind: "indexed", entry };
  if (entry !== undefined) {
    logger.warn("media index entry disagrees with the stored object: hashed again", {
      key,
      recordedSize: entry.size,
      storedSize: info.size,
    });
  }
  return { kind: "unindexed", size: info.size };
}

function isStatus(n: number): n is TencentStatus {
  return n === 0 || n === 1 || n === 2;
}

/** What a get_cos_sig answer means for the object: an outcome without a download, or undefined (fetch it). */
function verdictOf(answer: CosSigResult): ObjectOutcome | undefined {
  if (answer.Code !== 0) {
    const desc = answer.Desc === "" ? "" : `: ${answer.Desc}`;
    return {
      status: "refused",
      reason: `get_cos_sig answered Code ${answer.Code}${desc}`,
      tencentStatus: isStatus(answer.Status) ? answer.Status : undefined,
    };
  }
  if (answer.Status === 2) return { status: "missing" };
  if (!isStatus(answer.Status)) {
    return {
      status: "refused",
      reason: `get_cos_sig answered Status ${answer.Status}`,
      tencentStatus: undefined,
    };
  }
  if (answer.PreSigURL === "") {
    throw new ImTransportError(`Tencent IM get_cos_sig answered Status ${answer.Status} without a PreSigURL`);
  }
  return undefined;
}

/**
 * Captures the object at `key` (RawURL `rawUrl`, signer index `i`), which the store does not hold
 * with an index entry: downloads it from a fresh PreSigURL into the store (never overwriting), or
 * adopts the object already stored. Download failures are tried again up to maxAttempts, with a new
 * PreSigURL after a 403/404/410 or when the current one is about to lapse; then MediaCaptureError.
 */
export async function captureObject(
  target: { key: string; rawUrl: string; i: number; stored: StoredObject },
  ctx: ObjectContext,
  signal: AbortSignal,
): Promise<ObjectOutcome> {
  const { key, i } = target;
  const { clock, config, signer } = ctx;
  let answer = await signer.get(i, signal);
  if (target.stored.kind === "unindexed") {
    const status = answer.Code === 0 && isStatus(answer.Status) ? answer.Status : undefined;
    return adopt(target, status, undefined, undefined, 0, ctx);
  }
  let stale = false;
  let lastError: unknown;
  let bytes = 0;
  for (let attempt = 1; attempt <= config.maxAttempts; attempt++) {
    signal.throwIfAborted();
    if (stale || Date.parse(answer.ExpiresAt) - clock.now() <= config.presignMarginMs) {
      answer = await signer.refresh(i, signal);
      stale = false;
    }
    const verdict = verdictOf(answer);
    if (verdict !== undefined) return verdict;
    const tencentStatus = answer.Status as TencentStatus;
    try {
      const res = await openMediaDownload(answer.PreSigURL, {
        fetch: ctx.fetch,
        allowedHosts: config.downloadHosts,
        idleTimeoutMs: config.idleTimeoutMs,
        wholeUpTo: config.wholeUpTo,
        signal,
      });
      const stored = await storeBody(key, res, ctx.store);
      bytes += stored.received;
      if (stored.exists) {
        // Another worker stored it meanwhile: keep theirs, never rewrite.
        return adopt(target, tencentStatus, stored.digest?.size, res.contentType, bytes, ctx);
      }
      const { size, sha256 } = stored.digest!;
      return {
        status: "captured",
        tencentStatus,
        size,
        sha256,
        contentType: res.contentType,
        how: "fetched",
        bytes,
        entry: {
          version: 1,
          key,
          rawUrl: target.rawUrl,
          size,
          sha256,
          ...(res.contentType === undefined ? {} : { contentType: res.contentType }),
          tencentStatus,
          capturedAt: new Date(clock.now()).toISOString(),
        },
      };
    } catch (err) {
      if (signal.aborted || err instanceof UrlNotAllowedError) throw err;
      if (err instanceof ImvaultError && !err.retryable) throw err;
      lastError = err;
      stale = (err as { expired?: unknown }).expired === true;
      ctx.onRetry();
      ctx.logger.warn("media download attempt failed", {
        key,
        attempt,
        error: err instanceof Error ? err.message : String(err),
        errorType: err instanceof Error ? err.name : typeof err,
      });
      if (attempt < config.maxAttempts) {
        const ceiling = config.retryBaseDelayMs * 2 ** (attempt - 1);
        await clock.sleep(Math.floor(ctx.random() * ceiling), signal);
      }
    }
  }
  const reason = lastError instanceof Error ? lastError.message : String(lastError);
  throw new MediaCaptureError(`media ${key} failed ${config.maxAttempts} attempts (last: ${reason})`, {
    retryable: true,
    details: { key, attempts: config.maxAttempts, lastErrorType: (lastError as Error | undefined)?.name },
    cause: lastError,
  });
}

/**
 * Stores a download's body at `key` (create only), checked against its Content-Length and hashed on
 * the way: a small body answered whole is hashed and written in one piece, a stream through
 * DigestStream. `exists` when an object was at the key already (kept as it is); `received` counts the
 * bytes that arrived, also when storing failed.
 */
async function storeBody(
  key: string,
  res: MediaResponse,
  store: ArchiveStore,
): Promise<{ exists: boolean; digest: Digest | undefined; received: number }> {
  const options: PutOptions = {
    ifNoneMatch: true,
    // Deferred: the hour makes its objects durable in one go before its manifest (captureHourMedia).
    durability: "deferred",
    ...(res.contentType === undefined ? {} : { contentType: res.contentType }),
  };
  if (Buffer.isBuffer(res.body)) {
    const digest = digestOfBytes(res.body, res.contentLength, key);
    try {
      await store.put(key, res.body, options);
    } catch (err) {
      if (err instanceof AlreadyExistsError) return { exists: true, digest, received: digest.size };
      throw err;
    }
    return { exists: false, digest, received: digest.size };
  }
  const checked = new DigestStream(res.contentLength, key);
  const put = store.put(key, checked, options);
  // allSettled: a failed attempt waits for the store to finish discarding what it began.
  const [piped, stored] = await Promise.allSettled([pipeline(res.body, checked), put]);
  const received = checked.digest?.size ?? 0;
  if (stored.status === "rejected" && stored.reason instanceof AlreadyExistsError) {
    return { exists: true, digest: checked.digest, received };
  }
  if (piped.status === "rejected") throw piped.reason;
  if (stored.status === "rejected") throw stored.reason;
  return { exists: false, digest: checked.digest, received };
}

/**
 * The object already stored at the key stands (it was only ever written whole): its SHA-256 comes
 * from its index entry, else from reading it back (and the outcome carries the entry to record). A
 * download of a different size than the stored object is a conflict nobody should paper over.
 */
async function adopt(
  target: { key: string; rawUrl: string },
  tencentStatus: TencentStatus | undefined,
  downloadedSize: number | undefined,
  contentType: string | undefined,
  bytes: number,
  ctx: ObjectContext,
): Promise<ObjectOutcome> {
  const { key } = target;
  const stored = await lookUpStored(ctx.store, key, ctx.logger);
  if (stored.kind === "absent") {
    throw new MediaCaptureError(`media ${key} vanished from the store while it was captured`, {
      retryable: true,
      details: { key },
    });
  }
  let size: number;
  let sha256: string;
  let type = contentType;
  let status = tencentStatus;
  if (stored.kind === "indexed") {
    ({ size, sha256 } = stored.entry);
    type = stored.entry.contentType ?? contentType;
    status = stored.entry.tencentStatus ?? tencentStatus;
  } else {
    ({ size, sha256 } = await digestOf(await ctx.store.get(key)));
  }
  if (downloadedSize !== undefined && downloadedSize !== size) {
    throw new MediaCaptureError(
      `media ${key}: ${downloadedSize} bytes were served but the stored object has ${size}; it is kept as it is`,
      { retryable: false, details: { key, served: downloadedSize, stored: size } },
    );
  }
  const outcome: ObjectOutcome = {
    status: "captured",
    tencentStatus: status,
    size,
    sha256,
    contentType: type,
    how: "reused",
    bytes,
  };
  if (stored.kind === "unindexed") {
    outcome.entry = {
      version: 1,
      key,
      rawUrl: target.rawUrl,
      size,
      sha256,
      ...(type === undefined ? {} : { contentType: type }),
      ...(status === undefined ? {} : { tencentStatus: status }),
      capturedAt: new Date(ctx.clock.now()).toISOString(),
    };
  }
  return outcome;
}
