/**
 * The job queue over SQS's SendMessageBatch, given a way to send it: the SDK is only a type here, so
 * that a function loading the SDK at its first use (the API, for export jobs) can build the queue
 * without a static import of it. sqs-queue.ts builds it over an SQSClient.
 */
import type { SendMessageBatchCommandInput, SendMessageBatchCommandOutput } from "@aws-sdk/client-sqs";
import type { JobQueue } from "./port.ts";

export function sqsBatchQueue(
  sendBatch: (input: SendMessageBatchCommandInput) => Promise<SendMessageBatchCommandOutput>,
  queueUrl: string,
): JobQueue {
  return {
    async sendBatch(entries) {
      const out = await sendBatch({
        QueueUrl: queueUrl,
        Entries: entries.map((e) => ({ Id: e.id, MessageBody: e.body })),
      });
      return {
        failed: (out.Failed ?? []).map((f) => ({
          id: f.Id ?? "",
          senderFault: f.SenderFault ?? false,
          message: `${f.Code ?? "error"}: ${f.Message ?? ""}`,
        })),
      };
    },
  };
}
