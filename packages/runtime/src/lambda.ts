/**
 * `@imvault/runtime/lambda`: what the Lambda handlers are built from: Powertools adapters of
 * im-core's logger and metrics ports, the store, and the archive (history and media jobs) and api
 * handlers' deps. Handlers call
 * these once, at module scope, so a warm Lambda reuses connections, the UserSig cache and the rate
 * limiter across invocations. The SQS client lives in sqs.ts: only the schedule handler sends
 * messages, and an external `@aws-sdk/client-sqs` import kept here would be loaded by every
 * handler's cold start.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { MetricUnit, Metrics as PowertoolsMetrics } from "@aws-lambda-powertools/metrics";
import {
  type ArchiveStore,
  type Logger as CoreLogger,
  getCosSig,
  getHistory,
  type JobDeps,
  type JobQueue,
  type LookupDeps,
  type Metrics,
  sqsBatchQueue,
  systemClock,
} from "@imvault/im-core";
import { archiveConfigFrom } from "./archive-config.ts";
import { makeImClient, makeLocalStore } from "./clients.ts";
import { mediaConfigFrom } from "./media-config.ts";
import { makeS3Store } from "./s3.ts";
import {
  type ApiConfig,
  loadApiConfig,
  loadArchiveConfig,
  loadImConfig,
  loadLookupConfig,
  loadMediaSettings,
  loadQueueConfig,
  loadStoreConfig,
  type StoreConfig,
} from "./settings.ts";

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

/**
 * Flushes what the invocation counted, once, at its end; nothing when it counted nothing (an export
 * job, a schedule with no work), where Powertools would otherwise warn "No application metrics to
 * publish" in the log of every such invocation.
 */
export function publishMetrics(metrics: PowertoolsMetrics): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
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

/** What every handler has: a logger, and the Powertools metrics it flushes once per invocation. */
export interface HandlerBase {
  logger: CoreLogger;
  metrics: PowertoolsMetrics;
}

/**
 * The archive handler's deps, for both kinds of job: get_history (history jobs) and get_cos_sig
 * (media jobs) on ONE ImClient, so that they share its rate limiter (this instance's share of
 * IM_RATE_LIMIT), over one store, logger and metrics.
 */
export function createArchiveDeps(): HandlerBase & { deps: JobDeps } {
  const logger = makeLogger("imvault-archive");
  const metrics = makeMetrics("archive");
  const im = loadImConfig();
  const archive = loadArchiveConfig();
  const client = makeImClient(im, logger);
  const store = makeStore(loadStoreConfig());
  const port = metricsPort(metrics);
  return {
    logger,
    metrics,
    deps: {
      getHistory: (chatType, msgTime, signal) =>
        getHistory(client, chatType, msgTime, signal ? { signal } : {}),
      store,
      clock: systemClock,
      logger,
      metrics: port,
      config: archiveConfigFrom(im, archive),
      media: {
        getCosSig: (items, signal) => getCosSig(client, items, signal === undefined ? {} : { signal }),
        store,
        clock: systemClock,
        logger,
        metrics: port,
        config: mediaConfigFrom(im, archive, loadLookupConfig(), loadMediaSettings()),
      },
    },
  };
}

/** The services behind the API: lookups on the shared ImClient, the store, the API's settings. */
export interface ApiServices {
  getCosSig: LookupDeps["getCosSig"];
  store: ArchiveStore;
  clock: typeof systemClock;
  logger: CoreLogger;
  /** Values blanked from anything the API logs (the IM secret key). */
  secrets: readonly string[];
  config: ApiConfig;
}

export function createApiDeps(): HandlerBase & { services: ApiServices } {
  const logger = makeLogger("imvault-api");
  const metrics = makeMetrics("api");
  const im = loadImConfig();
  const client = makeImClient(im, logger);
  return {
    logger,
    metrics,
    services: {
      getCosSig: (items, signal) => getCosSig(client, items, signal === undefined ? {} : { signal }),
      store: makeStore(loadStoreConfig()),
      clock: systemClock,
      logger,
      secrets: [im.secretKey],
      config: loadApiConfig(),
    },
  };
}

/**
 * The job queue the API sends export jobs to (POST /v1/exports), its SQS client made at the first
 * export: the SDK is not loaded at the API's cold start.
 */
export function lazyExportQueue(): JobQueue {
  let queue: Promise<JobQueue> | undefined;
  return {
    sendBatch: async (entries) => {
      queue ??= (async () => {
        const config = loadQueueConfig();
        const sdk = await import("@aws-sdk/client-sqs");
        const client = new sdk.SQSClient(config.endpoint === undefined ? {} : { endpoint: config.endpoint });
        return sqsBatchQueue((input) => client.send(new sdk.SendMessageBatchCommand(input)), config.queueUrl);
      })();
      queue.catch(() => {
        queue = undefined;
      });
      return (await queue).sendBatch(entries);
    },
  };
}
