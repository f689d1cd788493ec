/** EventBridge Scheduler → plan the window and enqueue one SQS job per hour not yet archived. */

import { parseScheduleEvent, runSchedule, type ScheduleSummary } from "@imvault/im-core/archive/schedule.ts";
import { createSqsJobQueue } from "@imvault/im-core/queue/sqs-queue.ts";
import { systemClock } from "@imvault/im-core/util/clock.ts";
import { loadArchiveConfig, loadQueueConfig, loadStoreConfig } from "./config.ts";
import { makeLogger, makeMetrics, makeStore, metricsPort } from "./deps.ts";
import { makeSqsClient } from "./sqs-deps.ts";

const logger = makeLogger("imvault-schedule");
const metrics = makeMetrics("schedule");
const archiveConfig = loadArchiveConfig();
const queueConfig = loadQueueConfig();
const store = makeStore(loadStoreConfig());
const queue = createSqsJobQueue(makeSqsClient(queueConfig), queueConfig.queueUrl);

/** The hourly event carries nothing we need; `{ "from", "to", "chatType"? }` asks for a backfill. */
export async function handler(event: unknown): Promise<ScheduleSummary> {
  try {
    return await runSchedule(
      {
        store,
        queue,
        clock: systemClock,
        logger,
        metrics: metricsPort(metrics),
        config: { lookbackHours: archiveConfig.lookbackHours, settleHours: archiveConfig.settleHours },
      },
      parseScheduleEvent(event),
    );
  } finally {
    metrics.publishStoredMetrics();
  }
}
