import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from "aws-lambda";

/** API Gateway HTTP APIs refuse bigger request bodies (10 MB); the dev server does the same. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

/** What the dev server knows of one request. */
export interface HttpRequestInfo {
  method: string;
  /** Path and query as received, e.g. /v1/status?hours=3 */
  url: string;
  /** Lower- or mixed-case names; a repeated header as an array of its values. */
  headers: Record<string, string | string[] | undefined>;
  sourceIp: string;
  body: Buffer;
  /** Epoch ms the request arrived. */
  receivedAt: number;
}

const TEXT_TYPES = [
  /^text\//,
  /^application\/(json|xml|javascript|x-www-form-urlencoded)\b/,
  /^application\/[\w.+-]+\+(json|xml)\b/,
];

function isTextContent(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = contentType.toLowerCase().trim();
  return TEXT_TYPES.some((re) => re.test(type));
}

/** CLF time as API Gateway writes it: 12/Mar/2020:19:03:58 +0000 */
function clfTime(ms: number): string {
  const d = new Date(ms);
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/**
 * The payload-format-2.0 event API Gateway's HTTP API would send for this request on a `$default`
 * route: lower-cased headers (repeats joined by commas), cookies apart, query parameters with repeats
 * joined by commas, and the body as text, or base64 when it is not text.
 */
export function toApiGatewayEvent(request: HttpRequestInfo): APIGatewayProxyEventV2 {
  const queryAt = request.url.indexOf("?");
  const rawPath = queryAt === -1 ? request.url : request.url.slice(0, queryAt);
  const rawQueryString = queryAt === -1 ? "" : request.url.slice(queryAt + 1);

  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (lower === "cookie") {
      const all = Array.isArray(value) ? value.join("; ") : value;
      cookies = all
        .split(";")
        .map((c) => c.trim())
        .filter((c) => c !== "");
      continue;
    }
    headers[lower] = Array.isArray(value) ? value.join(",") : value;
  }

  const query: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(rawQueryString)) {
    query[key] = query[key] === undefined ? value : `${query[key]},${value}`;
  }

  const host = headers.host ?? "localhost";
  const domainName = host.replace(/:\d+$/, "");
  const text = isTextContent(headers["content-type"]);
  const hasBody = request.body.length > 0;
  const requestId = randomUUID();

  return {
    version: "2.0",
    routeKey: "$default",
    rawPath,
    rawQueryString,
    ...(cookies === undefined ? {} : { cookies }),
    headers,
    ...(Object.keys(query).length === 0 ? {} : { queryStringParameters: query }),
    requestContext: {
      accountId: "000000000000",
      apiId: "local",
      domainName,
      domainPrefix: domainName.split(".")[0] ?? domainName,
      http: {
        method: request.method.toUpperCase(),
        path: rawPath,
        protocol: "HTTP/1.1",
        sourceIp: request.sourceIp,
        userAgent: headers["user-agent"] ?? "",
      },
      requestId,
      routeKey: "$default",
      stage: "$default",
      time: clfTime(request.receivedAt),
      timeEpoch: request.receivedAt,
    },
    ...(hasBody ? { body: text ? request.body.toString("utf8") : request.body.toString("base64") } : {}),
    isBase64Encoded: hasBody && !text,
  };
}

/** Status, headers and body bytes of a handler's answer, read the way API Gateway reads them. */
export function fromApiGatewayResult(result: APIGatewayProxyResultV2): {
  statusCode: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
} {
  // Without a statusCode, API Gateway takes the whole answer as a JSON body with status 200.
  if (
    typeof result === "string" ||
    result === null ||
    typeof result !== "object" ||
    !("statusCode" in result)
  ) {
    return {
      statusCode: 200,
      headers: { "content-type": "application/json" },
      body: Buffer.from(typeof result === "string" ? result : JSON.stringify(result ?? null), "utf8"),
    };
  }
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {}))
    headers[name.toLowerCase()] = String(value);
  if (result.cookies !== undefined && result.cookies.length > 0) headers["set-cookie"] = result.cookies;
  const raw = result.body ?? "";
  return {
    statusCode: result.statusCode ?? 200,
    headers,
    body: result.isBase64Encoded === true ? Buffer.from(raw, "base64") : Buffer.from(raw, "utf8"),
  };
}

export function writeResult(response: ServerResponse, result: APIGatewayProxyResultV2): void {
  const { statusCode, headers, body } = fromApiGatewayResult(result);
  response.writeHead(statusCode, { ...headers, "content-length": String(body.length) });
  response.end(body);
}

/** An error in the API's own shape, for failures before the handler runs (body too big, handler crash). */
export function writeError(
  response: ServerResponse,
  statusCode: number,
  code: string,
  message: string,
): void {
  const body = Buffer.from(JSON.stringify({ error: { code, message } }), "utf8");
  response.writeHead(statusCode, {
    "content-type": "application/json",
    "content-length": String(body.length),
  });
  response.end(body);
}
