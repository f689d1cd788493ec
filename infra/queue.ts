import { ARCHIVE } from "./settings";

/** The job queue the schedule fills and the archive function drains, and its dead-letter queue. */
export function queues() {
  const dlq = new sst.aws.Queue("JobDlq", {
    transform: { queue: { messageRetentionSeconds: 14 * 24 * 3600 } }, // the SQS maximum
  });
  const queue = new sst.aws.Queue("JobQueue", {
    visibilityTimeout: `${ARCHIVE.visibilityTimeoutSeconds} seconds`,
    dlq: { queue: dlq.arn, retry: 5 },
  });
  return { queue, dlq };
}
