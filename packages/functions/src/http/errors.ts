import {
  type ApiErrorCode,
  AuthError,
  CorruptManifestError,
  type ErrorBody,
  hintFor,
  ImApiError,
  ImTransportError,
  ImvaultError,
  NotFoundError,
  PayloadTooLargeError,
  RATE_LOCKED_CODE,
  RATE_LOCKED_WAIT_MS,
  redactText,
  TimeoutError,
  UrlNotAllowedError,
  ValidationError,
} from "@imvault/im-core";

/**
 * The one place where errors become HTTP answers. Bodies are always
 * `{"error":{"code","message","details"?}}`, built from typed errors' messages and details (which
 * im-core keeps free of secrets) and redacted once more; never a stack, never an unknown error's text.
 */

export interface HttpError {
  status: number;
  headers: Record<string, string>;
  body: ErrorBody;
}

/** The route exists but not for this method; `allow` becomes the Allow header. */
export class MethodNotAllowedError extends ImvaultError {
  readonly allow: readonly string[];
  constructor(method: string, path: string, allow: readonly string[]) {
    super(`${method} is not allowed on ${path}; use ${allow.join(" or ")}`, { details: { allow } });
    this.allow = allow;
  }
}

/** Tencent codes meaning "too many requests": the caller should come back later (429). */
export const RATE_LIMIT_CODES: ReadonlySet<number> = new Set([60007, 60011, 60018, 60019, RATE_LOCKED_CODE]);
/** Tencent codes meaning Tencent timed out (504). */
export const UPSTREAM_TIMEOUT_CODES: ReadonlySet<number> = new Set([60008, 60014]);
/** Retry-After for a plain rate limit: the client already backed off; Tencent's windows are per second. */
export const RATE_LIMIT_RETRY_AFTER_SECONDS = 10;

export function toHttpError(error: unknown): HttpError {
  if (error instanceof ValidationError || error instanceof UrlNotAllowedError) {
    return answer(400, "invalid_request", error.message, error.details);
  }
  if (error instanceof AuthError) {
    return answer(401, "unauthorized", error.message, error.details, { "www-authenticate": "Bearer" });
  }
  if (error instanceof NotFoundError) return answer(404, "not_found", error.message, error.details);
  if (error instanceof CorruptManifestError) {
    // 409: the request is right and the hour exists, but its stored state cannot be served as asked
    // (a 500 would read as a bug of the API, a 404 as "not archived yet", a 200 as a manifest).
    return answer(
      409,
      "manifest_corrupt",
      `${error.message}; \`imvault verify\` names it, and archiving the hour again keeps it under manifests-corrupt/ and writes a fresh manifest`,
      error.details,
    );
  }
  if (error instanceof MethodNotAllowedError) {
    return answer(405, "method_not_allowed", error.message, error.details, { allow: error.allow.join(", ") });
  }
  if (error instanceof PayloadTooLargeError) {
    return answer(413, "payload_too_large", error.message, error.details);
  }
  if (error instanceof ImApiError) return fromTencentCode(error);
  if (error instanceof ImTransportError) {
    if (error.status === 429)
      return rateLimited(error.message, error.details, RATE_LIMIT_RETRY_AFTER_SECONDS);
    return answer(
      502,
      "upstream_error",
      `${error.message}; check IM_REGION / IM_BASE_URL and that this function can reach Tencent IM`,
      error.details,
    );
  }
  if (error instanceof TimeoutError) {
    return answer(504, "upstream_timeout", `${error.message}; retry later`, error.details);
  }
  if (error instanceof Error && error.name === "TimeoutError") {
    // AbortSignal.timeout's reason: the request's own deadline ran out while Tencent was being asked.
    return answer(504, "upstream_timeout", "the request ran out of time waiting for Tencent IM; retry later");
  }
  return answer(500, "internal_error", "internal error; the request id in the logs tells an operator more");
}

function fromTencentCode(error: ImApiError): HttpError {
  if (RATE_LIMIT_CODES.has(error.code)) {
    const retryAfter =
      error.code === RATE_LOCKED_CODE
        ? Math.ceil(RATE_LOCKED_WAIT_MS / 1000)
        : RATE_LIMIT_RETRY_AFTER_SECONDS;
    return rateLimited(error.message, error.details, retryAfter);
  }
  if (UPSTREAM_TIMEOUT_CODES.has(error.code)) {
    return answer(504, "upstream_timeout", `${error.message}; retry later`, error.details);
  }
  // The client's message names the command and code and, for configuration errors, what to check.
  const message =
    hintFor(error.code) !== undefined
      ? error.message
      : `${error.message}; look the code up in Tencent IM's error code list`;
  return answer(502, "upstream_error", message, error.details);
}

function rateLimited(
  message: string,
  details: Record<string, unknown> | undefined,
  seconds: number,
): HttpError {
  return answer(
    429,
    "rate_limited",
    `Tencent IM is rate limiting this app: ${message}; retry after ${seconds} s`,
    { ...details, retryAfterSeconds: seconds },
    { "retry-after": String(seconds) },
  );
}

function answer(
  status: number,
  code: ApiErrorCode,
  message: string,
  details?: Record<string, unknown>,
  headers: Record<string, string> = {},
): HttpError {
  const error: ErrorBody["error"] = { code, message: redactText(message) };
  const clean = details === undefined ? undefined : redactDeep(details);
  if (clean !== undefined && Object.keys(clean).length > 0) error.details = clean;
  return { status, headers, body: { error } };
}

/** Details are secret-free by construction; this keeps a stray `usersig=` out all the same. */
function redactDeep(details: Record<string, unknown>): Record<string, unknown> {
  const json = JSON.stringify(details, (_key, value) =>
    typeof value === "string" ? redactText(value) : value,
  );
  return json === undefined ? {} : (JSON.parse(json) as Record<string, unknown>);
}
