import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { systemClock } from "@imvault/im-core";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { lambdaContext } from "./lambda-context.ts";
import { type QueueIdentity, succeededRecords, toSqsEvent } from "./sqs-event.ts";

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;

export interface BatchReport {
  records: SQSRecord[];
  /** Records the handler reported failed: left on the queue, back after the visibility timeout. */
  failed: SQSRecord[];
  /** Set when the handler itself threw: then every record counts as failed. */
  error?: unknown;
}

export interface QueueWorkerOptions {
  client: SQSClient;
  queueUrl: string;
  queue: QueueIdentity;
  handler: SqsHandler;
  functionName: string;
  /** What getRemainingTimeInMillis starts from, like the function's timeout in AWS. */
  timeoutMs: number;
  /** Long-poll wait per receive (1..20 s); Lambda's poller uses 20. */
  waitTimeSeconds?: number;
  /** Records per batch (1..10), as the event source mapping's batch size. */
  batchSize?: number;
  onBatch?: (report: BatchReport) => void | Promise<void>;
  onError?: (error: unknown) => void;
}

export interface QueueWorker {
  /** Batches being handled right now. */
  readonly inFlight: number;
  /** Stops receiving (cancels the long poll) and waits for the batch in flight to finish. */
  stop(): Promise<void>;
}

/**
 * What Lambda's SQS event source mapping does, on one machine: long-poll, hand the batch to the
 * handler as a real SQSEvent, delete the records not listed in batchItemFailures, and leave the
 * failed ones to reappear after the visibility timeout, so the queue's redrive policy moves a job that
 * keeps failing to the dead-letter queue.
 */
export function startQueueWorker(options: QueueWorkerOptions): QueueWorker {
  const polling = new AbortController();
  let inFlight = 0;
  const loop = (async () => {
    while (!polling.signal.aborted) {
      let messages: Message[];
      try {
        const answer = await options.client.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: options.batchSize ?? 10,
            WaitTimeSeconds: options.waitTimeSeconds ?? 20,
            MessageSystemAttributeNames: ["All"],
            MessageAttributeNames: ["All"],
          }),
          { abortSignal: polling.signal },
        );
        messages = answer.Messages ?? [];
      } catch (error) {
        if (polling.signal.aborted) break;
        options.onError?.(error);
        // Stopping ends the pause early; that is not an error here.
        await systemClock.sleep(1_000, polling.signal).catch(() => {});
        continue;
      }
      if (messages.length === 0) continue;
      inFlight++;
      try {
        await handleBatch(options, toSqsEvent(messages, options.queue));
      } finally {
        inFlight--;
      }
    }
  })();
  return {
    get inFlight() {
      return inFlight;
    },
    async stop() {
      polling.abort();
      await loop;
    },
  };
}

async function handleBatch(options: QueueWorkerOptions, event: SQSEvent): Promise<void> {
  const context = lambdaContext(options.functionName, options.timeoutMs, { region: options.queue.region });
  let failed: SQSRecord[] = event.Records;
  let succeeded: SQSRecord[] = [];
  let error: unknown;
  try {
    const response = await options.handler(event, context);
    succeeded = succeededRecords(event.Records, response?.batchItemFailures);
    const ok = new Set(succeeded);
    failed = event.Records.filter((r) => !ok.has(r));
  } catch (caught) {
    // Like Lambda: a handler that throws fails the whole batch; every record comes back.
    error = caught;
  }
  if (succeeded.length > 0) {
    try {
      await deleteRecords(options, succeeded);
    } catch (deleteError) {
      // Not fatal: those jobs come back after the visibility timeout and are skipped (manifests exist).
      options.onError?.(deleteError);
    }
  }
  try {
    await options.onBatch?.({ records: event.Records, failed, ...(error === undefined ? {} : { error }) });
  } catch (reportError) {
    options.onError?.(reportError);
  }
}

async function deleteRecords(options: QueueWorkerOptions, records: SQSRecord[]): Promise<void> {
  const answer = await options.client.send(
    new DeleteMessageBatchCommand({
      QueueUrl: options.queueUrl,
      Entries: records.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
    }),
  );
  for (const f of answer.Failed ?? []) {
    // Not fatal: the job comes back after the visibility timeout and is skipped (its manifest exists).
    options.onError?.(
      new Error(`could not delete a finished job message: ${f.Code ?? ""} ${f.Message ?? ""}`),
    );
  }
}
