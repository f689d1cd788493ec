import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { JobQueue } from "./port.ts";
import { sqsBatchQueue } from "./sqs-batch.ts";

export function createSqsJobQueue(client: SQSClient, queueUrl: string): JobQueue {
  return sqsBatchQueue((input) => client.send(new SendMessageBatchCommand(input)), queueUrl);
}
