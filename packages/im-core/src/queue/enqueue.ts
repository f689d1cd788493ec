import { ImvaultError } from "../errors.ts";
import type { Clock } from "../util/clock.ts";
import { exponentialBackoff, retry } from "../util/retry.ts";
import { jobId, type QueueJob } from "./job.ts";
import type { JobQueue, QueueEntry } from "./port.ts";

export const SQS_BATCH_LIMIT = 10;

export interface EnqueueResult {
  enqueued: number;
  /** Entries still refused after every round, with the queue's reason. */
  failed: { id: string; message: string }[];
}

/** A round ended with entries the queue may still take: the next round re-sends them. */
class EntriesLeft extends Error {}

/**
 * Sends jobs in batches of ten and re-sends the entries a batch reports as failed (unless the queue
 * says the fault is the sender's), up to `maxRounds` rounds with a short backoff between them
 * (`backoffMs`, doubling). A queue error that is an ImvaultError and not retryable ends it at once.
 */
export async function enqueueJobs(
  queue: JobQueue,
  jobs: readonly QueueJob[],
  options: { clock: Clock; maxRounds?: number; backoffMs?: number },
): Promise<EnqueueResult> {
  let pending: QueueEntry[] = jobs.map((job) => ({ id: jobId(job), body: JSON.stringify(job) }));
  /** Why each pending entry was last refused. */
  const reasons = new Map<string, string>();
  const failed: EnqueueResult["failed"] = [];
  let enqueued = 0;

  const round = async (): Promise<void> => {
    const again: QueueEntry[] = [];
    for (let i = 0; i < pending.length; i += SQS_BATCH_LIMIT) {
      const batch = pending.slice(i, i + SQS_BATCH_LIMIT);
      let result: Awaited<ReturnType<JobQueue["sendBatch"]>>;
      try {
        result = await queue.sendBatch(batch);
      } catch (err) {
        // The whole call failed (network, throttling): every entry of it goes round again.
        if (err instanceof ImvaultError && !err.retryable) throw err;
        const message = err instanceof Error ? err.message : String(err);
        for (const entry of batch) reasons.set(entry.id, message);
        again.push(...batch);
        continue;
      }
      const refused = new Map(result.failed.map((f) => [f.id, f]));
      for (const entry of batch) {
        const f = refused.get(entry.id);
        if (f === undefined) {
          enqueued++;
        } else if (f.senderFault) {
          failed.push({ id: entry.id, message: f.message });
        } else {
          reasons.set(entry.id, f.message);
          again.push(entry);
        }
      }
    }
    pending = again;
    if (pending.length > 0) throw new EntriesLeft(`${pending.length} entries left`);
  };

  try {
    await retry(round, {
      attempts: options.maxRounds ?? 4,
      isRetryable: (err) => err instanceof EntriesLeft,
      delay: exponentialBackoff({ baseMs: options.backoffMs ?? 200 }),
      clock: options.clock,
    });
  } catch (err) {
    if (!(err instanceof EntriesLeft)) throw err;
    failed.push(...pending.map((entry) => ({ id: entry.id, message: reasons.get(entry.id) ?? "" })));
  }
  return { enqueued, failed };
}
