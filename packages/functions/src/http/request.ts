/**
 * Reading a request's parts as the API's routes need them (http/app.ts): the one Authorization
 * header, a query parameter given once, the JSON body within its size cap. Each refusal is a typed
 * error, mapped to HTTP in ./errors.ts.
 */
import { PayloadTooLargeError, ValidationError } from "@imvault/im-core";
import type { APIGatewayProxyEventV2 } from "aws-lambda";

/**
 * The one Authorization header. API Gateway joins repeated headers with commas, and no bearer token
 * has one (nor can an API_KEYS token): a comma means the caller sent several, which is refused
 * rather than guessing which one counts.
 */
export function authorizationHeader(event: APIGatewayProxyEventV2): string | undefined {
  const header = event.headers?.authorization;
  if (header?.includes(",")) {
    throw new ValidationError("send one Authorization header: this request has several", {
      header: "Authorization",
    });
  }
  return header;
}

/**
 * A query parameter given at most once, decoded; from the raw query string, because API Gateway
 * joins a repeated parameter's values with commas (and a URL may hold a comma).
 */
export function oneQueryValue(event: APIGatewayProxyEventV2, name: string): string | undefined {
  const values = new URLSearchParams(event.rawQueryString ?? "").getAll(name);
  if (values.length > 1) throw new ValidationError(`give ${name} once: this request has ${values.length}`);
  return values[0];
}

/**
 * Refuses a query parameter the route does not take: `takes` are the names its OpenAPI operation
 * lists, `operation` how to name it ("GET /v1/status").
 */
export function refuseUnknownQuery(
  event: APIGatewayProxyEventV2,
  takes: readonly string[],
  operation: string,
): void {
  for (const name of new URLSearchParams(event.rawQueryString ?? "").keys()) {
    if (takes.includes(name)) continue;
    const known = takes.length === 0 ? "no query parameter" : takes.join(", ");
    throw new ValidationError(
      `unknown query parameter ${JSON.stringify(name.slice(0, 100))}: ${operation} takes ${known}`,
      { parameter: name.slice(0, 100) },
    );
  }
}

/** The shape of each route's body, as its 400s show it. */
export const COS_SIG_BODY = '{"RawURLs":[{"ResourceID":int,"RawURL":string}]}';
export const EXPORT_BODY = '{"from","to","user"|"group"|"conversation","format":"rsmf"|"html"|"jsonl"}';
export const SEARCH_BODY = '{"from","to","user"?,"peer"?,"group"?,"text"?,"type"?,"limit"?}';

/** The JSON body (an object), base64-decoded when API Gateway encoded it, within the size cap. */
export function readJsonBody(event: APIGatewayProxyEventV2, maxBytes: number, shape: string): unknown {
  const raw = event.body ?? "";
  // Reject an oversized base64 body by its encoded length, before decoding it.
  const approxBytes = event.isBase64Encoded
    ? Math.floor((raw.length * 3) / 4)
    : Buffer.byteLength(raw, "utf8");
  if (approxBytes > maxBytes + 2) throw new PayloadTooLargeError(maxBytes, approxBytes);
  const text = event.isBase64Encoded ? Buffer.from(raw, "base64").toString("utf8") : raw;
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > maxBytes) throw new PayloadTooLargeError(maxBytes, bytes);
  if (text.trim() === "") {
    throw new ValidationError(`the request body is empty: send ${shape}`);
  }
  // Content-Type is not checked: `curl -d` sends form-encoded by default and the body is JSON either way.
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ValidationError("the request body is not valid JSON");
  }
  // Every body the API takes is an object: an array or a bare value is said so, not as missing fields.
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    const what = Array.isArray(body) ? "an array" : body === null ? "null" : `a ${typeof body}`;
    throw new ValidationError(`the request body must be a JSON object (it is ${what}): send ${shape}`);
  }
  return body;
}
