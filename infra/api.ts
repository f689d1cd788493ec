/** The HTTP API: API Gateway (HTTP API) in front of the api function, throttled, no CORS; the console at `/`. */
export function httpApi(apiFn: sst.aws.Function) {
  const api = new sst.aws.ApiGatewayV2("HttpApi", {
    cors: false,
    accessLog: { retention: "1 month" },
    transform: {
      // SST has no throttling option: set the $default stage's route defaults. Lookups are for
      // operators, not traffic; this also bounds the get_cos_sig calls made for them.
      stage: { defaultRouteSettings: { throttlingRateLimit: 5, throttlingBurstLimit: 10 } },
    },
  });
  for (const route of [
    "POST /v1/cos-sig",
    "GET /v1/archive/{chatType}/{msgTime}",
    "GET /v1/media",
    "GET /v1/media/banned",
    "GET /v1/status",
    "GET /v1/health",
    "HEAD /v1/health",
    "GET /v1/openapi.json",
    // Message searches: Athena over the Glue table (infra/query.ts).
    "POST /v1/searches",
    "GET /v1/searches/{id}",
    // Exports: queued for the archive function, fetched as a zip by a short-lived URL.
    "POST /v1/exports",
    "GET /v1/exports/{id}",
    // The web console: the page and its hashed assets, served by the api function itself (same
    // origin as the API, so its CSP stays 'self' and the API needs no CORS).
    "GET /",
    "GET /assets/{file}",
  ]) {
    api.route(route, apiFn.arn);
  }
  return { api };
}
