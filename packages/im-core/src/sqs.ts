/** `@imvault/im-core/sqs`: the SQS adapter of the job queue port (loads the AWS SDK for SQS). */
export * from "./queue/sqs-queue.ts";
