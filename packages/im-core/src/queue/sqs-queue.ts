import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { JobQueue } from "./port.ts";

export function createSqsJobQueue(client: SQSClient, queueUrl: string): JobQueue {
  return {
    async sendBatch(entries) {
      const out = await client.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: entries.map((e) => ({ Id: e.id, MessageBody: e.body })),
        }),
      );
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
