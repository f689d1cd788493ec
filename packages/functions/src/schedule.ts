/**
 * EventBridge Scheduler → plan the windows and enqueue one SQS job per hour not yet archived, and one
 * media job per archived hour whose media are not captured yet.
 */
import { parseScheduleEvent, runSchedule, type ScheduleSummary } from "@imvault/im-core";
import { publishMetrics } from "@imvault/runtime/lambda";
import { createScheduleDeps } from "@imvault/runtime/sqs";

const { deps, metrics } = createScheduleDeps();

/**
 * The hourly event carries nothing we need; `{ "from", "to", "chatType"? }` asks for a backfill, and
 * `"kind": "history" | "media"` plans only that kind of job.
 */
export async function handler(event: unknown): Promise<ScheduleSummary> {
  try {
    return await runSchedule(deps, parseScheduleEvent(event));
  } finally {
    publishMetrics(metrics);
  }
}
