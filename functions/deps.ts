/**
 * Builds the clients the handlers share from configuration. Handlers call these once, at module scope,
 * so a warm Lambda reuses connections, the UserSig cache and the rate limiter across invocations.
 * The SQS client lives in sqs-deps.ts: only the schedule handler sends messages, and an external
 * `@aws-sdk/client-sqs` import kept here would be loaded by every handler's cold start.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { MetricUnit, Metrics as PowertoolsMetrics } from "@aws-lambda-powertools/metrics";
import { S3Client } from "@aws-sdk/client-s3";
import { ImClient } from "@imvault/im-core/im/client.ts";
import { createLocalUrlSigner } from "@imvault/im-core/store/local-signed-url.ts";
import { createLocalStore } from "@imvault/im-core/store/local-store.ts";
import type { ArchiveStore } from "@imvault/im-core/store/port.ts";
import { createS3Store } from "@imvault/im-core/store/s3-store.ts";
import type { Logger as CoreLogger } from "@imvault/im-core/util/log.ts";
import type { Metrics } from "@imvault/im-core/util/metrics.ts";
import type { loadImConfig, loadStoreConfig } from "./config.ts";

export const METRICS_NAMESPACE = "imvault";

/** im-core's logging port over Powertools Logger: one JSON line per call, fields merged in. */
export function makeLogger(serviceName: string): CoreLogger {
  const logger = new Logger({ serviceName });
  const emit =
    (level: "debug" | "info" | "warn" | "error") => (message: string, fields?: Record<string, unknown>) =>
      fields === undefined ? logger[level](message) : logger[level](message, fields);
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") };
}

export function makeMetrics(serviceName: string): PowertoolsMetrics {
  return new PowertoolsMetrics({ namespace: METRICS_NAMESPACE, serviceName });
}

/** im-core's metrics port over Powertools: counts are buffered and flushed once per invocation. */
export function metricsPort(metrics: PowertoolsMetrics): Metrics {
  return {
    count(name, value = 1, unit = "Count") {
      metrics.addMetric(name, unit === "Bytes" ? MetricUnit.Bytes : MetricUnit.Count, value);
    },
  };
}

export function makeStore(config: ReturnType<typeof loadStoreConfig>): ArchiveStore {
  if (config.kind === "local") {
    // With a public URL and a signing key (imvault dev sets both), download URLs are HMAC-signed
    // links that the local server serves; without them the local store has no URLs to give.
    const urlFor =
      config.publicUrl !== undefined && config.urlSigningKey !== undefined
        ? createLocalUrlSigner({ baseUrl: config.publicUrl, secret: config.urlSigningKey }).urlFor
        : undefined;
    return createLocalStore({ root: config.dataDir, ...(urlFor === undefined ? {} : { urlFor }) });
  }
  const client = new S3Client(
    config.endpoint === undefined ? {} : { endpoint: config.endpoint, forcePathStyle: true },
  );
  return createS3Store({ client, bucket: config.bucket });
}

export function makeImClient(config: ReturnType<typeof loadImConfig>, logger: CoreLogger): ImClient {
  return new ImClient({
    sdkAppId: config.sdkAppId,
    identifier: config.identifier,
    secretKey: config.secretKey,
    region: config.region,
    ...(config.baseUrl === undefined ? {} : { baseUrl: config.baseUrl }),
    ratePerSecond: config.ratePerSecond,
    logger,
  });
}
