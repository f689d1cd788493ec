/**
 * API Gateway HTTP API (payload v2) → imvault's API. Settings and clients are built once, at module
 * scope (a missing setting fails the cold start, naming it); each request goes to the injected-deps
 * handler of http/app.ts.
 */
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { consoleSite } from "@imvault/console";
import { METRIC } from "@imvault/im-core";
import { loadArchiveConfig } from "@imvault/runtime";
import { createApiDeps } from "@imvault/runtime/lambda";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { createApiHandler } from "./http/app.ts";

const { services, metrics } = createApiDeps();
// The console's "at risk" view follows the archiver's settle and Tencent's retention (ImApp's values).
const { settleHours, retentionDays } = loadArchiveConfig();

const handle = createApiHandler({
  ...services,
  console: { site: consoleSite, settleHours, retentionDays },
  countRequest: (status, route) => {
    // One request per invocation: these dimensions are cleared by the flush below.
    metrics.addDimensions({ route, status: String(status) });
    metrics.addMetric(METRIC.apiRequests, MetricUnit.Count, 1);
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
