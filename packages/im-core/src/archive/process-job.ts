import { ImvaultError, ValidationError } from "../errors.ts";
import { captureHourMedia, type MediaDeps, type MediaResult } from "../media/capture-hour.ts";
import { type AnyJob, type ExportJob, parseJob, type QueueJob } from "../queue/job.ts";
import { indexHour } from "../table/index-hour.ts";
import { METRIC, noMetrics } from "../util/metrics.ts";
import { type ArchiveDeps, type ArchiveResult, archiveHour } from "./archive-hour.ts";

/**
 * What the queue's consumer needs: the archive deps for history jobs and, for media jobs, media deps
 * over the same store and the same ImClient (get_cos_sig and get_history share one rate limiter).
 */
export type JobDeps = ArchiveDeps & {
  media?: MediaDeps;
  /**
   * Runs an export job (export/export-job.ts's runExportJob over this consumer's store): injected so
   * that the zip writer is loaded only where exports run.
   */
  exports?: (job: ExportJob, signal: AbortSignal | undefined) => Promise<ExportJobOutcome>;
};

/** What an export job came to (export/export-job.ts's ExportJobResult). */
export interface ExportJobOutcome {
  outcome: "succeeded" | "failed" | "already-done";
  messages?: number;
  size?: number;
  sha256?: string;
  error?: string;
}

export type JobOutcome =
  | { kind: "done"; job: QueueJob & { kind: "history" }; result: ArchiveResult }
  | { kind: "done"; job: QueueJob & { kind: "media" }; result: MediaResult }
  | { kind: "done"; job: ExportJob; result: ExportJobOutcome }
  | { kind: "dropped"; reason: string };

/**
 * Runs one queue message: parse, then by its kind archive the hour's history or capture its media,
 * and one log line for the job (kind, chat type, hour, outcome, figures, duration, attempt). A
 * malformed message is logged and dropped (returned, never thrown, so it is not retried); a failed
 * job throws, so the queue brings it back and, after its retries, moves it to the dead-letter queue.
 * A media capture that fails writes no media manifest: the next attempt starts the hour over,
 * keeping every object already stored.
 */
export async function processJobMessage(
  body: string,
  deps: JobDeps,
  context: { attempt: number; messageId: string; signal?: AbortSignal },
): Promise<JobOutcome> {
  let job: AnyJob;
  try {
    job = parseJob(body);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    deps.logger.error("dropping malformed job message", {
      messageId: context.messageId,
      problem: err.message,
      details: err.details,
      bodyPreview: body.slice(0, 200),
    });
    return { kind: "dropped", reason: err.message };
  }
  if (job.kind === "export") return runExportJobMessage(job, deps, context);
  const started = deps.clock.now();
  const base = {
    kind: job.kind,
    chatType: job.chatType,
    msgTime: job.msgTime,
    attempt: context.attempt,
    messageId: context.messageId,
  };
  try {
    if (job.kind === "media") {
      const result = await captureMedia(job, deps, context.signal);
      const { counts, ...figures } = result;
      deps.logger.info("job", { ...base, ...figures, ...counts, durationMs: deps.clock.now() - started });
      if (result.outcome === "no-manifest") {
        deps.logger.warn("media job for an hour that is not archived: nothing to capture yet", {
          chatType: job.chatType,
          msgTime: job.msgTime,
        });
      }
      return { kind: "done", job: { ...job, kind: "media" }, result };
    }
    const result = await archiveHour(job, deps, context.signal);
    if (result.outcome === "archived") await indexArchived(job, deps, context.signal);
    deps.logger.info("job", { ...base, ...result, durationMs: deps.clock.now() - started });
    return { kind: "done", job: { ...job, kind: "history" }, result };
  } catch (err) {
    (deps.metrics ?? noMetrics).count(job.kind === "media" ? METRIC.mediaFailures : METRIC.archiveFailures);
    deps.logger.error("job failed", {
      ...base,
      outcome: "failed",
      durationMs: deps.clock.now() - started,
      errorType: err instanceof Error ? err.name : typeof err,
      error: err instanceof Error ? err.message : String(err),
      retryable: err instanceof ImvaultError ? err.retryable : true,
      ...(err instanceof ImvaultError && err.details !== undefined ? { details: err.details } : {}),
    });
    throw err;
  }
}

/** An export job: one log line for it, as for the hour jobs; a failure throws (the queue retries it). */
async function runExportJobMessage(
  job: ExportJob,
  deps: JobDeps,
  context: { attempt: number; messageId: string; signal?: AbortSignal },
): Promise<JobOutcome> {
  const started = deps.clock.now();
  const base = { kind: job.kind, id: job.id, attempt: context.attempt, messageId: context.messageId };
  try {
    if (deps.exports === undefined) {
      throw new ImvaultError("this queue consumer was built without export deps: it cannot run export jobs");
    }
    const result = await deps.exports(job, context.signal);
    deps.logger.info("job", { ...base, ...result, durationMs: deps.clock.now() - started });
    return { kind: "done", job, result };
  } catch (err) {
    deps.logger.error("job failed", {
      ...base,
      outcome: "failed",
      durationMs: deps.clock.now() - started,
      errorType: err instanceof Error ? err.name : typeof err,
      error: err instanceof Error ? err.message : String(err),
    });
    throw err;
  }
}

function captureMedia(job: QueueJob, deps: JobDeps, signal: AbortSignal | undefined): Promise<MediaResult> {
  if (deps.media === undefined) {
    throw new ImvaultError("this queue consumer was built without media deps: it cannot run media jobs");
  }
  return captureHourMedia(job, deps.media, signal);
}

/**
 * The hour's rows in the message table, written right after its commit. The table is derived and
 * rebuildable (`imvault index`), so a failure here is logged and counted, never the job's failure.
 */
async function indexArchived(job: QueueJob, deps: JobDeps, signal: AbortSignal | undefined): Promise<void> {
  try {
    await indexHour(job, { store: deps.store, logger: deps.logger }, signal === undefined ? {} : { signal });
  } catch (err) {
    (deps.metrics ?? noMetrics).count(METRIC.indexFailures);
    deps.logger.warn("indexing failed: `imvault index` writes the hour's table files again", {
      chatType: job.chatType,
      msgTime: job.msgTime,
      error: err instanceof Error ? err.message : String(err),
    });
  }
}
