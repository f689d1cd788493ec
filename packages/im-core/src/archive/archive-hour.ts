import { ImApiError, ImvaultError, IntegrityError, UrlNotAllowedError } from "../errors.ts";
import type { ChatType, HistoryFile } from "../im/types.ts";
import type { HourJob } from "../queue/job.ts";
import { DEFAULTS } from "../schemas/limits.ts";
import type { ArchiveStore } from "../store/port.ts";
import { hourEnd, type MsgTime } from "../time/msgtime.ts";
import type { AllowList } from "../util/allow-list.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import { METRIC, type Metrics, noMetrics } from "../util/metrics.ts";
import { fullJitterBackoff, retry } from "../util/retry.ts";
import type { VerifiedFigures } from "../verify/verifier.ts";
import { warmUpGunzipThread } from "../verify/worker-plain-side.ts";
import { assertDownloadAllowed } from "./download.ts";
import { fileNameOf, rawHourPrefix, rawKey, withoutQuery } from "./layout.ts";
import { committedManifest, type Manifest, type ManifestFile, writeManifest } from "./manifest.ts";
import { contentKey, downloadAndStore, KeyTakenError, removeUnnamed } from "./stored-file.ts";

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

/** The archive configuration of the defaults (DEFAULTS), for `downloadHosts`. */
export function defaultArchiveConfig(downloadHosts: AllowList): ArchiveConfig {
  return {
    settleHours: DEFAULTS.settleHours,
    maxAttemptsPerFile: DEFAULTS.maxAttemptsPerFile,
    idleTimeoutMs: DEFAULTS.downloadIdleTimeoutSeconds * 1000,
    retryBaseDelayMs: DEFAULTS.retryBaseDelayMs,
    downloadHosts,
  };
}

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
  /** The most download attempts one file of the hour took (1: each at once; 0: nothing downloaded). */
  attempts: number;
}

/** Raised when a file of the hour could not be archived within its attempts. */
export class ArchiveFailedError extends ImvaultError {}

/**
 * Archives one hour of one chat type: every file downloaded once, verified in the same pass and
 * stored, then the manifest written last as the commit point. Safe to run again at any time, and
 * while another attempt at the same hour runs: an hour with a manifest is skipped without calling
 * Tencent; files are stored create-only, so no attempt replaces or removes a file a committed
 * manifest names; a run that dies leaves no manifest, and the next one starts the hour over, keeping
 * the verified files it finds. A store that cannot be written fails the hour at once
 * (StoreUnavailableError, never retried).
 */
export async function archiveHour(
  job: HourJob,
  deps: ArchiveDeps,
  signal?: AbortSignal,
): Promise<ArchiveResult> {
  const { chatType, msgTime } = job;
  const metrics = deps.metrics ?? noMetrics;
  if ((await committedManifest(deps, chatType, msgTime)) !== undefined) {
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
  const stored: ManifestFile[] = [];
  let attempts = 0;
  for (let index = 0; index < files.length; index++) {
    const key = rawKey(chatType, msgTime, names[index]!);
    let result: Awaited<ReturnType<typeof archiveFile>>;
    try {
      result = await archiveFile(job, index, files, key, deps, signal);
    } catch (err) {
      // Another attempt at the hour (a duplicated job) may have committed it meanwhile: then it is done.
      if (err instanceof ArchiveFailedError && (await committedManifest(deps, chatType, msgTime))) {
        metrics.count(METRIC.hoursSkipped);
        return {
          outcome: "skipped",
          files: 0,
          bytes: 0,
          attempts: Math.max(attempts, deps.config.maxAttemptsPerFile),
        };
      }
      throw err;
    }
    attempts = Math.max(attempts, result.attempts);
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
  await removeStrays(deps, manifest);
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
  ownKey: string,
  deps: ArchiveDeps,
  signal: AbortSignal | undefined,
): Promise<{ file: ManifestFile; files: HistoryFile[]; attempts: number }> {
  const { config, clock, logger } = deps;
  let files = initial;
  let key = ownKey;
  // A failed get_history refresh ends the file at once, as Tencent's own retries are behind it.
  let refreshError: unknown;
  const isRetryable = (err: unknown) =>
    err !== refreshError &&
    !(err instanceof UrlNotAllowedError) &&
    !(err instanceof ImvaultError && !err.retryable);
  try {
    return await retry(
      async (attempt) => {
        if (attempt > 1 || files[index]!.expiresAt.getTime() <= clock.now()) {
          files = await refreshed(job, files, deps, signal).catch((err: unknown) => {
            refreshError = err;
            throw err;
          });
        }
        const file = files[index]!;
        try {
          const verified = await downloadAndStore(file, key, deps, signal);
          if (verified.framingProblem !== undefined) {
            logger.warn("file kept: it matches Tencent's sizes and MD5s but not the documented layout", {
              chatType: job.chatType,
              msgTime: job.msgTime,
              key,
              framingProblem: verified.framingProblem,
            });
          }
          return { file: manifestEntry(key, file.url, verified), files, attempts: attempt };
        } catch (err) {
          if (isRetryable(err) && !(signal?.aborted ?? false)) {
            if (err instanceof KeyTakenError) key = contentKey(ownKey, file.gzipMd5);
            deps.metrics?.count(METRIC.fileRetries);
            logger.warn("file attempt failed", {
              chatType: job.chatType,
              msgTime: job.msgTime,
              key,
              attempt,
              error: err instanceof Error ? err.message : String(err),
              errorType: err instanceof Error ? err.name : typeof err,
            });
          }
          // Nothing to remove: a failed put leaves nothing under the key, and what another attempt
          // stored there is not this attempt's to touch.
          throw err;
        }
      },
      {
        attempts: config.maxAttemptsPerFile,
        delay: fullJitterBackoff({ baseMs: config.retryBaseDelayMs, random: deps.random ?? Math.random }),
        isRetryable,
        clock,
        ...(signal === undefined ? {} : { signal }),
      },
    );
  } catch (lastError) {
    if (!isRetryable(lastError) || (signal?.aborted ?? false)) throw lastError;
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
    gzipSha256: v.gzipSha256,
    fileSha256: v.fileSha256,
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

/**
 * Once the hour is committed, removes what attempts that died before their manifest left under its
 * raw prefix. Best effort: the hour is archived whatever happens here.
 */
async function removeStrays(deps: ArchiveDeps, manifest: Manifest): Promise<void> {
  try {
    const removed = await removeUnnamed(
      deps.store,
      rawHourPrefix(manifest.chatType, manifest.msgTime),
      manifest,
    );
    if (removed.length > 0) deps.logger.info("removed files no manifest names", { removed });
  } catch (err) {
    deps.logger.warn("could not remove files no manifest names", {
      chatType: manifest.chatType,
      msgTime: manifest.msgTime,
      error: err instanceof Error ? err.message : String(err),
    });
  }
}
