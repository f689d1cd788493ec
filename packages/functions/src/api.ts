/**
 * API Gateway HTTP API (payload v2) → imvault's API. Settings and clients are built once, at module
 * scope (a missing setting fails the cold start, naming it); each request goes to the injected-deps
 * handler of http/app.ts.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { consoleSite } from "@imvault/console";
import { METRIC, type SearchService, TABLE_PREFIX } from "@imvault/im-core";
import { loadArchiveConfig, loadStoreConfig } from "@imvault/runtime";
import { athenaSearchesFromSettings } from "@imvault/runtime/athena";
import { createApiDeps, lazyExportQueue, publishMetrics } from "@imvault/runtime/lambda";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { createApiHandler } from "./http/app.ts";

const { services, metrics } = createApiDeps();
// The console's "at risk" view follows the archiver's settle and Tencent's retention (ImApp's values).
const { settleHours, retentionDays } = loadArchiveConfig();

const handle = createApiHandler({
  ...services,
  console: { site: consoleSite, settleHours, retentionDays },
  ...searchEngine(),
  // Export jobs go on the archive queue (JOBS_QUEUE_URL / the Jobs link); its client is made at the first export.
  exportQueue: lazyExportQueue(),
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
    publishMetrics(metrics);
  }
}

/**
 * Where searches run: Athena in AWS (the deployment links MessageTable; on one machine with
 * ATHENA_WORKGROUP and ATHENA_DATABASE), else DuckDB over a DATA_DIR store's table (`imvault dev`),
 * loaded at the first search. DuckDB is a native library that the Lambda bundles leave out, so its
 * module is named at run time, where esbuild does not follow it. A bucket without Athena has none:
 * the routes answer 404 saying so.
 */
function searchEngine(): { searches?: SearchService } {
  const athena = athenaSearchesFromSettings();
  if (athena !== undefined) return { searches: athena };
  const store = loadStoreConfig();
  if (store.kind !== "local") return {};
  const entry = duckdbEntry();
  let service: Promise<SearchService> | undefined;
  const load = () => {
    service ??= (import(entry) as Promise<typeof import("@imvault/im-core/duckdb")>).then(
      (m) => new m.LocalSearches({ tablesDir: join(store.dataDir, TABLE_PREFIX) }),
    );
    return service;
  };
  return {
    searches: {
      start: async (search, caller) => (await load()).start(search, caller),
      page: async (id, cursor) => (await load()).page(id, cursor),
    },
  };
}

/**
 * The module of `@imvault/im-core/duckdb`. In the command line's bundle (`imvault dev` runs this
 * handler from it) that is duckdb.mjs beside the bundle's chunks (scripts/bundle-cli.ts), which
 * shares their modules: the package's own entry would load a second copy of im-core from its
 * sources, whose errors (a malformed window, an unknown search id) the API's error mapping would not
 * recognise, answering 500 for what is a 400 or a 404.
 */
function duckdbEntry(): string {
  const beside = new URL("./duckdb.mjs", import.meta.url);
  return !import.meta.url.endsWith(".ts") && existsSync(fileURLToPath(beside))
    ? beside.href
    : ["@imvault/im-core", "duckdb"].join("/");
}
