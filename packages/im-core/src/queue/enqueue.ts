import { type HourJob, jobId } from "../archive/job.ts";
import { ImvaultError } from "../errors.ts";
import type { Clock } from "../util/clock.ts";
import type { JobQueue, QueueEntry } from "./port.ts";

export const SQS_BATCH_LIMIT = 10;

export interface EnqueueResult {
  enqueued: number;
  /** Entries still refused after every round, with the queue's reason. */
  failed: { id: string; message: string }[];
}

/**
 * Sends jobs in batches of ten and re-sends the entries a batch reports as failed (unless the queue
 * says the fault is the sender's), up to `maxRounds` rounds with a short backoff between them.
 */
export async function enqueueJobs(
  queue: JobQueue,
  jobs: readonly HourJob[],
  options: { clock: Clock; maxRounds?: number; backoffMs?: number },
): Promise<EnqueueResult> {
  const maxRounds = options.maxRounds ?? 4;
  let pending: QueueEntry[] = jobs.map((job) => ({ id: jobId(job), body: JSON.stringify(job) }));
  const failed: EnqueueResult["failed"] = [];
  let enqueued = 0;
  for (let round = 1; pending.length > 0 && round <= maxRounds; round++) {
    if (round > 1) await options.clock.sleep((options.backoffMs ?? 200) * 2 ** (round - 2));
    const retry: QueueEntry[] = [];
    for (let i = 0; i < pending.length; i += SQS_BATCH_LIMIT) {
      const batch = pending.slice(i, i + SQS_BATCH_LIMIT);
      let result: Awaited<ReturnType<JobQueue["sendBatch"]>>;
      try {
        result = await queue.sendBatch(batch);
      } catch (err) {
        // The whole call failed (network, throttling): every entry of it goes round again.
        if (err instanceof ImvaultError && !err.retryable) throw err;
        if (round < maxRounds) {
          retry.push(...batch);
        } else {
          const message = err instanceof Error ? err.message : String(err);
          failed.push(...batch.map((e) => ({ id: e.id, message })));
        }
        continue;
      }
      const refused = new Map(result.failed.map((f) => [f.id, f]));
      for (const entry of batch) {
        const f = refused.get(entry.id);
        if (f === undefined) enqueued++;
        else if (f.senderFault || round === maxRounds) failed.push({ id: entry.id, message: f.message });
        else retry.push(entry);
      }
    }
    pending = retry;
  }
  return { enqueued, failed };
}
