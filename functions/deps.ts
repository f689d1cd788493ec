/**
 * Builds the clients the handlers share from configuration. Handlers call these once, at module scope,
 * so a warm Lambda reuses connections, the UserSig cache and the rate limiter across invocations.
 * The SQS client lives in sqs-deps.ts: only the schedule handler sends messages, and an external
 * `@aws-sdk/client-sqs` import kept here would be loaded by every handler's cold start.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { MetricUnit, Metrics as PowertoolsMetrics } from "@aws-lambda-powertools/metrics";
import type { ArchiveStore } from "@imvault/im-core/store/port.ts";
import type { Logger as CoreLogger } from "@imvault/im-core/util/log.ts";
import type { Metrics } from "@imvault/im-core/util/metrics.ts";
import { makeLocalStore } from "./clients.ts";
import type { StoreConfig } from "./config.ts";
import { makeS3Store } from "./s3-store-deps.ts";

export { makeImClient } from "./clients.ts";

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

/** The handlers' store: they build it once at module scope, so both adapters are loaded statically. */
export function makeStore(config: StoreConfig): ArchiveStore {
  return config.kind === "local" ? makeLocalStore(config) : makeS3Store(config);
}
