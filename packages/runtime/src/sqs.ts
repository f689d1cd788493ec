/**
 * `@imvault/runtime/sqs`: the SQS client and the schedule handler's deps, apart from lambda.ts:
 * only the schedule handler sends jobs. With the AWS SDK left to the Lambda runtime
 * (scripts/bundle.ts), an import esbuild keeps is an import Node loads at cold start, so the api and
 * archive bundles must not reach this module.
 */
import { SQSClient } from "@aws-sdk/client-sqs";
import { type ScheduleDeps, systemClock } from "@imvault/im-core";
import { createSqsJobQueue } from "@imvault/im-core/sqs";
import { type HandlerBase, makeLogger, makeMetrics, makeStore, metricsPort } from "./lambda.ts";
import { loadArchiveConfig, loadMediaSettings, loadQueueConfig, loadStoreConfig } from "./settings.ts";

export function makeSqsClient(config: ReturnType<typeof loadQueueConfig>): SQSClient {
  return new SQSClient(config.endpoint === undefined ? {} : { endpoint: config.endpoint });
}

/** The schedule handler's deps: the store to plan from, the SQS queue to enqueue on, the windows. */
export function createScheduleDeps(): HandlerBase & { deps: ScheduleDeps } {
  const logger = makeLogger("imvault-schedule");
  const metrics = makeMetrics("schedule");
  const archive = loadArchiveConfig();
  const queueConfig = loadQueueConfig();
  return {
    logger,
    metrics,
    deps: {
      store: makeStore(loadStoreConfig()),
      queue: createSqsJobQueue(makeSqsClient(queueConfig), queueConfig.queueUrl),
      clock: systemClock,
      logger,
      metrics: metricsPort(metrics),
      config: {
        lookbackHours: archive.lookbackHours,
        settleHours: archive.settleHours,
        mediaRetentionDays: loadMediaSettings().retentionDays,
      },
    },
  };
}
