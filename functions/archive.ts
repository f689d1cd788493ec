/** SQS consumer: archive each hour job of the batch; only failed jobs come back (partial batch response). */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { ArchiveDeps } from "@imvault/im-core/archive/archive-hour.ts";
import { DEFAULT_ARCHIVE_CONFIG } from "@imvault/im-core/archive/archive-hour.ts";
import { processJobMessage } from "@imvault/im-core/archive/process-job.ts";
import { getHistory } from "@imvault/im-core/im/calls.ts";
import { systemClock } from "@imvault/im-core/util/clock.ts";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { loadArchiveConfig, loadImConfig, loadStoreConfig } from "./config.ts";
import { makeImClient, makeLogger, makeMetrics, makeStore, metricsPort } from "./deps.ts";

const logger = makeLogger("imvault-archive");
const metrics = makeMetrics("archive");
const imConfig = loadImConfig();
const archiveConfig = loadArchiveConfig();
const client = makeImClient(imConfig, logger);
const deps: ArchiveDeps = {
  getHistory: (chatType, msgTime, signal) => getHistory(client, chatType, msgTime, signal ? { signal } : {}),
  store: makeStore(loadStoreConfig()),
  clock: systemClock,
  logger,
  metrics: metricsPort(metrics),
  config: {
    ...DEFAULT_ARCHIVE_CONFIG,
    settleHours: archiveConfig.settleHours,
    maxAttemptsPerFile: archiveConfig.maxAttemptsPerFile,
    idleTimeoutMs: archiveConfig.downloadIdleTimeoutMs,
    retryBaseDelayMs: archiveConfig.retryBaseDelayMs,
    downloadHosts: imConfig.downloadHosts,
  },
};
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
    metrics.publishStoredMetrics();
  }
}
