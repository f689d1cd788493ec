import { ImvaultError, ValidationError } from "../errors.ts";
import { parseJob } from "../queue/job.ts";
import { METRIC, noMetrics } from "../util/metrics.ts";
import { type ArchiveDeps, type ArchiveResult, archiveHour } from "./archive-hour.ts";

export type JobOutcome = { kind: "done"; result: ArchiveResult } | { kind: "dropped"; reason: string };

/**
 * Runs one queue message: parse, archive, and one log line for the job (chat type, hour, outcome,
 * files, bytes, duration, attempt). A malformed message is logged and dropped (returned, never
 * thrown, so it is not retried); a failed job throws, so the queue brings it back and, after its
 * retries, moves it to the dead-letter queue.
 */
export async function processJobMessage(
  body: string,
  deps: ArchiveDeps,
  context: { attempt: number; messageId: string; signal?: AbortSignal },
): Promise<JobOutcome> {
  let job: ReturnType<typeof parseJob>;
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
  const started = deps.clock.now();
  const base = {
    chatType: job.chatType,
    msgTime: job.msgTime,
    attempt: context.attempt,
    messageId: context.messageId,
  };
  try {
    const result = await archiveHour(job, deps, context.signal);
    deps.logger.info("job", { ...base, ...result, durationMs: deps.clock.now() - started });
    return { kind: "done", result };
  } catch (err) {
    (deps.metrics ?? noMetrics).count(METRIC.archiveFailures);
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
