/**
 * API Gateway HTTP API events, payload format 2.0, shaped exactly as AWS delivers them to a Lambda
 * behind the `$default` route and stage: lower-cased headers, repeated query values joined with a
 * comma, cookies split out of the headers, and no `queryStringParameters` / `body` / `cookies` keys at
 * all when there are none.
 */
import type { APIGatewayProxyEventV2 } from "aws-lambda";

export interface ApiGatewayEventInit {
  method?: string;
  /** The path with an optional query string, e.g. "/v1/status?hours=3". */
  path: string;
  headers?: Record<string, string>;
  /** A string is sent as is; an object is sent as JSON (with content-type application/json). */
  body?: string | object;
  /** Base64-encode the body, as API Gateway does for binary media types. */
  base64?: boolean;
  requestId?: string;
  sourceIp?: string;
  /** Epoch ms of the request; default 2024-03-01T04:05:06Z. */
  timeEpoch?: number;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** API Gateway's `requestContext.time`: "01/Mar/2024:04:05:06 +0000". */
function clf(epochMs: number): string {
  const d = new Date(epochMs);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

let counter = 0;

export function apiGatewayEvent(init: ApiGatewayEventInit): APIGatewayProxyEventV2 {
  const method = (init.method ?? "GET").toUpperCase();
  const queryAt = init.path.indexOf("?");
  const rawPath = queryAt === -1 ? init.path : init.path.slice(0, queryAt);
  const rawQueryString = queryAt === -1 ? "" : init.path.slice(queryAt + 1);
  const timeEpoch = init.timeEpoch ?? Date.UTC(2024, 2, 1, 4, 5, 6);
  const requestId = init.requestId ?? `JfXvPhR2oAMEVbA=${String(++counter).padStart(4, "0")}`;
  const sourceIp = init.sourceIp ?? "203.0.113.7";
  const userAgent = init.headers?.["user-agent"] ?? "curl/8.5.0";

  let body: string | undefined;
  const headers: Record<string, string> = {
    accept: "*/*",
    host: "abc123.execute-api.eu-west-1.amazonaws.com",
    "user-agent": userAgent,
    "x-amzn-trace-id": "Root=1-65e1538a-5b0c8a1e2f3d4c5b6a798081",
    "x-forwarded-for": sourceIp,
    "x-forwarded-port": "443",
    "x-forwarded-proto": "https",
  };
  if (init.body !== undefined) {
    const text = typeof init.body === "string" ? init.body : JSON.stringify(init.body);
    if (typeof init.body !== "string") headers["content-type"] = "application/json";
    body = init.base64 ? Buffer.from(text, "utf8").toString("base64") : text;
    headers["content-length"] = String(Buffer.byteLength(text, "utf8"));
  }
  for (const [name, value] of Object.entries(init.headers ?? {})) headers[name.toLowerCase()] = value;

  const cookies = headers.cookie?.split(/;\s*/).filter((c) => c.length > 0);
  delete headers.cookie;

  const query = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(rawQueryString)) {
    query.set(name, [...(query.get(name) ?? []), value]);
  }

  const event: APIGatewayProxyEventV2 = {
    version: "2.0",
    routeKey: "$default",
    rawPath,
    rawQueryString,
    headers,
    requestContext: {
      accountId: "123456789012",
      apiId: "abc123",
      domainName: "abc123.execute-api.eu-west-1.amazonaws.com",
      domainPrefix: "abc123",
      http: { method, path: rawPath, protocol: "HTTP/1.1", sourceIp, userAgent },
      requestId,
      routeKey: "$default",
      stage: "$default",
      time: clf(timeEpoch),
      timeEpoch,
    },
    isBase64Encoded: init.base64 === true,
  };
  if (cookies !== undefined && cookies.length > 0) event.cookies = cookies;
  if (query.size > 0) {
    event.queryStringParameters = Object.fromEntries([...query].map(([k, v]) => [k, v.join(",")]));
  }
  if (body !== undefined) event.body = body;
  return event;
}
