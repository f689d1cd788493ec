/**
 * `@imvault/runtime/sqs`: the SQS client and the schedule handler's deps, apart from lambda.ts:
 * only the schedule handler sends jobs. With the AWS SDK left to the Lambda runtime
 * (scripts/bundle.ts), an import esbuild keeps is an import Node loads at cold start, so the api and
 * archive bundles must not reach this module.
 */
import { SQSClient } from "@aws-sdk/client-sqs";
import { type ScheduleDeps, systemClock } from "@imvault/im-core";
import { createSqsJobQueue } from "@imvault/im-core/sqs";
import { makeDigestSigner } from "./evidence.ts";
import { type HandlerBase, makeLogger, makeMetrics, makeStore, metricsPort } from "./lambda.ts";
import {
  loadArchiveConfig,
  loadEvidenceConfig,
  loadMediaSettings,
  loadQueueConfig,
  loadStoreConfig,
} from "./settings.ts";

export function makeSqsClient(config: ReturnType<typeof loadQueueConfig>): SQSClient {
  return new SQSClient(config.endpoint === undefined ? {} : { endpoint: config.endpoint });
}

/**
 * The schedule handler's deps: the store to plan from, the SQS queue to enqueue on, the window, and
 * the digest signer (in AWS the KMS key, DigestKey.keyId; on a local store the key under
 * DATA_DIR/.imvault), made on the first run and kept. Only this function signs digests.
 */
export function createScheduleDeps(): HandlerBase & { deps: ScheduleDeps } {
  const logger = makeLogger("imvault-schedule");
  const metrics = makeMetrics("schedule");
  const archive = loadArchiveConfig();
  const queueConfig = loadQueueConfig();
  const storeConfig = loadStoreConfig();
  let signer: ReturnType<typeof makeDigestSigner> | undefined;
  return {
    logger,
    metrics,
    deps: {
      store: makeStore(storeConfig),
      queue: createSqsJobQueue(makeSqsClient(queueConfig), queueConfig.queueUrl),
      clock: systemClock,
      logger,
      metrics: metricsPort(metrics),
      config: {
        lookbackHours: archive.lookbackHours,
        settleHours: archive.settleHours,
        mediaRetentionDays: loadMediaSettings().retentionDays,
      },
      digestSigner: () => {
        // A local store needs no KMS key (nor its link); a failed attempt is tried again next run.
        signer ??= makeDigestSigner(storeConfig, storeConfig.kind === "s3" ? loadEvidenceConfig() : {});
        signer.catch(() => {
          signer = undefined;
        });
        return signer;
      },
    },
  };
}
