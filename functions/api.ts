/**
 * API Gateway HTTP API (payload v2) → imvault's lookup API. Configuration and clients are built once,
 * at module scope (a missing setting fails the cold start, naming it); each request goes to the
 * injected-deps handler of api-app.ts.
 */
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { getCosSig } from "@imvault/im-core/im/calls.ts";
import { systemClock } from "@imvault/im-core/util/clock.ts";
import { METRIC } from "@imvault/im-core/util/metrics.ts";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { createApiHandler } from "./api-app.ts";
import { loadApiConfig, loadArchiveConfig, loadImConfig, loadStoreConfig } from "./config.ts";
import { makeImClient, makeLogger, makeMetrics, makeStore } from "./deps.ts";

const logger = makeLogger("imvault-api");
const metrics = makeMetrics("api");
const imConfig = loadImConfig();
const apiConfig = loadApiConfig();
const client = makeImClient(imConfig, logger);

const handle = createApiHandler({
  getCosSig: (items, signal) => getCosSig(client, items, signal === undefined ? {} : { signal }),
  store: makeStore(loadStoreConfig()),
  clock: systemClock,
  logger,
  secrets: [imConfig.secretKey],
  countRequest: (status, route) => {
    // One request per invocation: these dimensions are cleared by the flush below.
    metrics.addDimensions({ route, status: String(status) });
    metrics.addMetric(METRIC.apiRequests, MetricUnit.Count, 1);
  },
  config: {
    apiKeys: apiConfig.apiKeys,
    cosUrlHosts: apiConfig.cosUrlHosts,
    maxItems: apiConfig.maxItems,
    maxBodyBytes: apiConfig.maxBodyBytes,
    lookbackHours: loadArchiveConfig().lookbackHours,
  },
});

export async function handler(
  event: APIGatewayProxyEventV2,
  context?: Context,
): Promise<APIGatewayProxyStructuredResultV2> {
  try {
    return await handle(event, context);
  } finally {
    metrics.publishStoredMetrics();
  }
}
