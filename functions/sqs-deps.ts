/**
 * The SQS client, apart from deps.ts: only the schedule handler sends jobs. With the AWS SDK left to
 * the Lambda runtime (scripts/bundle.ts), an import esbuild keeps is an import Node loads at cold
 * start, so the api and archive bundles must not reach this module.
 */
import { SQSClient } from "@aws-sdk/client-sqs";
import type { loadQueueConfig } from "./config.ts";

export function makeSqsClient(config: ReturnType<typeof loadQueueConfig>): SQSClient {
  return new SQSClient(config.endpoint === undefined ? {} : { endpoint: config.endpoint });
}
