/** EventBridge Scheduler → plan the window and enqueue one SQS job per hour not yet archived. */
import { parseScheduleEvent, runSchedule, type ScheduleSummary } from "@imvault/im-core";
import { createScheduleDeps } from "@imvault/runtime/sqs";

const { deps, metrics } = createScheduleDeps();

/** The hourly event carries nothing we need; `{ "from", "to", "chatType"? }` asks for a backfill. */
export async function handler(event: unknown): Promise<ScheduleSummary> {
  try {
    return await runSchedule(deps, parseScheduleEvent(event));
  } finally {
    metrics.publishStoredMetrics();
  }
}
