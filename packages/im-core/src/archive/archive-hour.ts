import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ImApiError, ImvaultError, IntegrityError, UrlNotAllowedError } from "../errors.ts";
import type { ChatType, HistoryFile } from "../im/types.ts";
import type { ArchiveStore } from "../store/port.ts";
import { hourEnd, type MsgTime } from "../time/msgtime.ts";
import type { AllowList } from "../util/allow-list.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import { METRIC, type Metrics, noMetrics } from "../util/metrics.ts";
import { createVerifier, type VerifiedFigures } from "../verify/verifier.ts";
import { warmUpGunzipThread } from "../verify/worker-plain-side.ts";
import { assertDownloadAllowed, openDownload } from "./download.ts";
import type { HourJob } from "./job.ts";
import { fileNameOf, rawHourPrefix, rawKey, withoutQuery } from "./layout.ts";
import { type Manifest, type ManifestFile, readManifest, writeManifest } from "./manifest.ts";

/** Tencent's get_history codes that are outcomes, not failures. */
const NOT_GENERATED_YET = 1004;
const FILE_EXPIRED = 1005;

export interface ArchiveConfig {
  /** How long after an hour ends a 1004 still means "not generated yet" (then: "no messages"). */
  settleHours: number;
  /** Download attempts per file (first included) before the job fails. */
  maxAttemptsPerFile: number;
  /** Hosts history files may be downloaded from. */
  downloadHosts: AllowList;
  /** A download with no byte for this long is stalled. */
  idleTimeoutMs: number;
  /** Base of the backoff between attempts of one file (full jitter, doubling). */
  retryBaseDelayMs: number;
}

export const DEFAULT_ARCHIVE_CONFIG = {
  settleHours: 6,
  maxAttemptsPerFile: 5,
  idleTimeoutMs: 30_000,
  retryBaseDelayMs: 1_000,
} as const satisfies Partial<ArchiveConfig>;

export interface ArchiveDeps {
  /** get_history for one hour: every file with its figures, or an ImApiError (1004, 1005, …). */
  getHistory(chatType: ChatType, msgTime: MsgTime, signal?: AbortSignal): Promise<HistoryFile[]>;
  store: ArchiveStore;
  /** Downloads with this fetch instead of node:http(s) (tests inject fakes). */
  fetch?: typeof fetch;
  clock: Clock;
  logger: Logger;
  metrics?: Metrics;
  random?: () => number;
  config: ArchiveConfig;
}

export type ArchiveOutcome = "archived" | "empty" | "expired" | "pending" | "skipped";

export interface ArchiveResult {
  outcome: ArchiveOutcome;
  files: number;
  bytes: number;
  /** Download attempts made in all (0 when nothing was downloaded). */
  attempts: number;
}

/** Raised when a file of the hour could not be archived within its attempts. */
export class ArchiveFailedError extends ImvaultError {}

/**
 * Archives one hour of one chat type: every file downloaded once, verified in the same pass and
 * stored, then the manifest written last as the commit point. Safe to run again at any time: an hour
 * with a manifest is skipped without calling Tencent, and a run that dies leaves no manifest, so the
 * next one starts the hour over.
 */
export async function archiveHour(
  job: HourJob,
  deps: ArchiveDeps,
  signal?: AbortSignal,
): Promise<ArchiveResult> {
  const { chatType, msgTime } = job;
  const metrics = deps.metrics ?? noMetrics;
  if ((await readManifest(deps.store, chatType, msgTime)) !== undefined) {
    metrics.count(METRIC.hoursSkipped);
    return { outcome: "skipped", files: 0, bytes: 0, attempts: 0 };
  }

  // A big file inflates on a worker thread: let one boot during the get_history round trip.
  warmUpGunzipThread();
  let files: HistoryFile[];
  try {
    files = await deps.getHistory(chatType, msgTime, signal);
  } catch (err) {
    if (!(err instanceof ImApiError)) throw err;
    if (err.code === NOT_GENERATED_YET) {
      const settledAt = hourEnd(msgTime) + deps.config.settleHours * 3_600_000;
      if (deps.clock.now() < settledAt) {
        metrics.count(METRIC.hoursPending);
        return { outcome: "pending", files: 0, bytes: 0, attempts: 0 };
      }
      return commitWithoutFiles(job, "empty", deps);
    }
    if (err.code === FILE_EXPIRED) {
      deps.logger.error("hour expired before it was archived: its history is lost", {
        chatType,
        msgTime,
        code: err.code,
      });
      return commitWithoutFiles(job, "expired", deps);
    }
    throw err;
  }
  if (files.length === 0) {
    // Tencent answered OK with no file: treat like "not generated yet" rather than guess.
    metrics.count(METRIC.hoursPending);
    return { outcome: "pending", files: 0, bytes: 0, attempts: 0 };
  }
  // Refuse a foreign host before any byte is fetched, for every file of the hour.
  for (const file of files) assertDownloadAllowed(file.url, deps.config.downloadHosts);

  const names = uniqueNames(files.map((f) => fileNameOf(f.url)));
  await removeStrays(deps.store, rawHourPrefix(chatType, msgTime), new Set(names));

  const stored: ManifestFile[] = [];
  let attempts = 0;
  for (let index = 0; index < files.length; index++) {
    const key = rawKey(chatType, msgTime, names[index]!);
    const result = await archiveFile(job, index, files, key, deps, signal);
    attempts += result.attempts;
    stored.push(result.file);
    files = result.files;
  }

  const manifest: Manifest = {
    version: 1,
    chatType,
    msgTime,
    status: "archived",
    files: stored,
    archivedAt: new Date(deps.clock.now()).toISOString(),
  };
  if (!(await writeManifest(deps.store, manifest))) {
    metrics.count(METRIC.hoursSkipped);
    return { outcome: "skipped", files: 0, bytes: 0, attempts };
  }
  const bytes = stored.reduce((sum, f) => sum + f.gzipSize, 0);
  metrics.count(METRIC.hoursArchived);
  metrics.count(METRIC.filesArchived, stored.length);
  metrics.count(METRIC.bytesArchived, bytes, "Bytes");
  return { outcome: "archived", files: stored.length, bytes, attempts };
}

/**
 * Downloads, verifies and stores file `index`, retrying with a fresh URL from get_history after any
 * failure. Returns the (possibly refreshed) file list so later files use fresh URLs too.
 */
async function archiveFile(
  job: HourJob,
  index: number,
  initial: HistoryFile[],
  key: string,
  deps: ArchiveDeps,
  signal: AbortSignal | undefined,
): Promise<{ file: ManifestFile; files: HistoryFile[]; attempts: number }> {
  const { config, clock, logger } = deps;
  const random = deps.random ?? Math.random;
  let files = initial;
  let lastError: unknown;
  for (let attempt = 1; attempt <= config.maxAttemptsPerFile; attempt++) {
    signal?.throwIfAborted();
    if (attempt > 1 || files[index]!.expiresAt.getTime() <= clock.now()) {
      files = await refreshed(job, files, deps, signal);
    }
    const file = files[index]!;
    try {
      const { stream, figures } = createVerifier(file);
      // The store consumes the verifier; the verifier only ends once all four figures match, so a
      // bad file makes `put` reject and nothing stays under the key. The put starts before the
      // download answers, so that the store gets ready (the local store opens its temp file) while
      // the request is on its way, not while the first bytes wait.
      const put = deps.store.put(key, stream);
      put.catch(() => {}); // settled below, after the download answered (or failed)
      let body: Readable;
      try {
        body = await openDownload(file.url, {
          fetch: deps.fetch,
          allowedHosts: config.downloadHosts,
          idleTimeoutMs: config.idleTimeoutMs,
          signal,
        });
      } catch (err) {
        // Nothing was downloaded: the store discards what it began before the error goes on. No
        // error to destroy with: the store may not listen yet, and the download's error is thrown.
        stream.destroy();
        await put.catch(() => {});
        throw err;
      }
      // allSettled, not all: a failed attempt must wait for the store to finish discarding the file.
      const [piped, stored, verified] = await Promise.allSettled([pipeline(body, stream), put, figures]);
      for (const r of [piped, stored]) if (r.status === "rejected") throw r.reason;
      if (verified.status === "rejected") throw verified.reason;
      if (verified.value.framingProblem !== undefined) {
        logger.warn("file kept: it matches Tencent's sizes and MD5s but not the documented layout", {
          chatType: job.chatType,
          msgTime: job.msgTime,
          key,
          framingProblem: verified.value.framingProblem,
        });
      }
      return {
        file: manifestEntry(key, file.url, verified.value),
        files,
        attempts: attempt,
      };
    } catch (err) {
      if (err instanceof UrlNotAllowedError || (signal?.aborted ?? false)) throw err;
      if (err instanceof ImvaultError && !err.retryable) throw err;
      lastError = err;
      deps.metrics?.count(METRIC.fileRetries);
      logger.warn("file attempt failed", {
        chatType: job.chatType,
        msgTime: job.msgTime,
        key,
        attempt,
        error: err instanceof Error ? err.message : String(err),
        errorType: err instanceof Error ? err.name : typeof err,
      });
      await deps.store.delete(key).catch(() => {});
      if (attempt < config.maxAttemptsPerFile) {
        const ceiling = config.retryBaseDelayMs * 2 ** (attempt - 1);
        await clock.sleep(Math.floor(random() * ceiling), signal);
      }
    }
  }
  const reason = lastError instanceof Error ? lastError.message : String(lastError);
  throw new ArchiveFailedError(
    `${job.chatType} ${job.msgTime}: file ${key} failed ${config.maxAttemptsPerFile} attempts (last: ${reason})`,
    {
      retryable: true,
      details: { key, attempts: config.maxAttemptsPerFile, lastErrorType: (lastError as Error)?.name },
      cause: lastError,
    },
  );
}

/** Exactly the manifest's fields: never the download URL's query, which may carry a signature. */
function manifestEntry(key: string, url: string, v: VerifiedFigures): ManifestFile {
  return {
    key,
    sourceUrl: withoutQuery(url),
    gzipSize: v.gzipSize,
    gzipMd5: v.gzipMd5,
    fileSize: v.fileSize,
    fileMd5: v.fileMd5,
    messageCount: v.messageCount,
    ...(v.framingProblem === undefined ? {} : { framingProblem: v.framingProblem }),
  };
}

/** Asks get_history again for fresh URLs; the hour must still list the same files. */
async function refreshed(
  job: HourJob,
  previous: HistoryFile[],
  deps: ArchiveDeps,
  signal: AbortSignal | undefined,
): Promise<HistoryFile[]> {
  const fresh = await deps.getHistory(job.chatType, job.msgTime, signal);
  const sameFiles =
    fresh.length === previous.length &&
    fresh.every((f, i) => f.gzipMd5 === previous[i]!.gzipMd5 && f.fileMd5 === previous[i]!.fileMd5);
  if (!sameFiles) {
    throw new IntegrityError(`${job.chatType} ${job.msgTime}: get_history now lists different files`, {
      before: previous.length,
      after: fresh.length,
    });
  }
  return fresh;
}

async function commitWithoutFiles(
  job: HourJob,
  status: "empty" | "expired",
  deps: ArchiveDeps,
): Promise<ArchiveResult> {
  const written = await writeManifest(deps.store, {
    version: 1,
    chatType: job.chatType,
    msgTime: job.msgTime,
    status,
    files: [],
    archivedAt: new Date(deps.clock.now()).toISOString(),
  });
  if (!written) return { outcome: "skipped", files: 0, bytes: 0, attempts: 0 };
  deps.metrics?.count(status === "empty" ? METRIC.hoursEmpty : METRIC.hoursExpired);
  return { outcome: status, files: 0, bytes: 0, attempts: 0 };
}

/** Two files of one hour with the same name get numbered, so neither overwrites the other. */
function uniqueNames(names: string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((name) => {
    const n = seen.get(name) ?? 0;
    seen.set(name, n + 1);
    return n === 0 ? name : `${n}-${name}`;
  });
}

/** Deletes what an earlier, unfinished run left under the hour that this run will not write. */
async function removeStrays(store: ArchiveStore, prefix: string, keep: Set<string>): Promise<void> {
  for await (const obj of store.list(prefix)) {
    if (!keep.has(obj.key.slice(prefix.length))) await store.delete(obj.key);
  }
}
