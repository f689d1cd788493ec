/**
 * SQS consumer of every kind of job: archive an hour's history, capture its media, or run an export
 * the API was asked for (processJobMessage
 * dispatches by the message's kind); only failed jobs come back (partial batch response). Every job
 * stops at the deadline signal, before Lambda's own: a media job cut short writes no media manifest,
 * and its retry skips every object already stored.
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { processJobMessage } from "@imvault/im-core";
import { exportJobRunner } from "@imvault/runtime/exports";
import { createArchiveDeps, publishMetrics } from "@imvault/runtime/lambda";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";

const archive = createArchiveDeps();
const { metrics } = archive;
// Export jobs (POST /v1/exports) run here too: the same queue, dead-letter queue and alarms.
const deps = { ...archive.deps, exports: exportJobRunner(archive.deps) };
const processor = new BatchProcessor(EventType.SQS);

/** Stop this long before Lambda's deadline, so a job ends cleanly (and is retried) rather than killed. */
const DEADLINE_MARGIN_MS = 15_000;

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  const remaining = context.getRemainingTimeInMillis?.() ?? 15 * 60_000;
  const signal = AbortSignal.timeout(Math.max(1_000, remaining - DEADLINE_MARGIN_MS));
  const record = async (r: SQSRecord) => {
    await processJobMessage(r.body, deps, {
      attempt: Number(r.attributes.ApproximateReceiveCount ?? "1"),
      messageId: r.messageId,
      signal,
    });
  };
  try {
    // Records run concurrently; the shared ImClient's rate limiter keeps them within Tencent's rate.
    return await processPartialResponse(event, record, processor, {
      context,
      processInParallel: true,
      throwOnFullBatchFailure: false,
    });
  } finally {
    publishMetrics(metrics);
  }
}
