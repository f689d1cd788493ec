/** What the IM client makes of an answer or a failed exchange: typed, secret-free, retryable or not. */
import { ImApiError, ImTransportError, type ImvaultError } from "../errors.ts";
import { hintFor, RATE_LOCKED_CODE, RETRYABLE_CODES } from "./codes.ts";
import { redactText } from "./redact.ts";
import { CONNECT_TIMEOUT_CODE } from "./transport.ts";

/** What one HTTP attempt ended with, when it did not end with an OK answer. */
export interface Failure {
  error: ImvaultError;
  /** Tencent's ErrorCode, when it answered at all. */
  code?: number;
  /** The host could not be reached (DNS, refused, unreachable): worth the backup domain. */
  unreachable?: boolean;
}

export type AttemptResult = { ok: true; body: Record<string, unknown> } | { ok: false; failure: Failure };

/** Errors (on an error or anywhere in its cause chain) that mean "could not reach the host". */
const UNREACHABLE_CODES = new Set([
  "ENOTFOUND",
  "EAI_AGAIN",
  "EAI_FAIL",
  "EAI_NONAME",
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "UND_ERR_CONNECT_TIMEOUT",
  CONNECT_TIMEOUT_CODE,
]);

export function failed(error: ImvaultError): AttemptResult {
  return { ok: false, failure: { error } };
}

/**
 * Reads a 200 answer: OK → the body; FAIL → ImApiError, retryable for the transient and rate-limit
 * codes, 70050 and the call's own `extraRetryable`; anything else → unparsable (retryable).
 */
export function interpretAnswer(
  name: string,
  text: string,
  extraRetryable: ReadonlySet<number>,
  secrets: readonly string[],
): AttemptResult {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    return failed(new ImTransportError(`Tencent IM ${name} answered a body that is not a JSON object`));
  }
  const answer = body as Record<string, unknown>;
  if (answer.ActionStatus === "OK") return { ok: true, body: answer };
  if (typeof answer.ErrorCode !== "number") {
    return failed(
      new ImTransportError(`Tencent IM ${name} answered without ActionStatus OK or a numeric ErrorCode`),
    );
  }
  const code = answer.ErrorCode;
  const retryable = RETRYABLE_CODES.has(code) || code === RATE_LOCKED_CODE || extraRetryable.has(code);
  const error = new ImApiError({
    command: name,
    code,
    info: redactText(typeof answer.ErrorInfo === "string" ? answer.ErrorInfo : "", secrets),
    requestId: typeof answer.RequestId === "string" ? redactText(answer.RequestId, secrets) : undefined,
    retryable,
    hint: hintFor(code),
  });
  return { ok: false, failure: { error, code } };
}

/**
 * Tencent answers 200 unless the network in between failed (502 etc.): 5xx and 429 are transient,
 * any other status means the URL is wrong (a bad base URL, a proxy refusing).
 */
export function httpStatusFailure(name: string, status: number, attempt: number): AttemptResult {
  const retryable = status >= 500 || status === 429;
  return failed(
    new ImTransportError(`Tencent IM ${name} answered HTTP ${status} (attempt ${attempt})`, {
      status,
      retryable,
    }),
  );
}

function* causeChain(error: unknown): Generator<unknown> {
  let current = error;
  for (let depth = 0; depth < 6 && current !== undefined; depth++) {
    yield current;
    if (current instanceof AggregateError) for (const member of current.errors) yield* causeChain(member);
    current = current instanceof Error ? current.cause : undefined;
  }
}

export function isUnreachable(error: unknown): boolean {
  for (const link of causeChain(error)) {
    const code = (link as { code?: unknown } | null)?.code;
    if (typeof code === "string" && UNREACHABLE_CODES.has(code)) return true;
  }
  return false;
}

/** "connect ECONNREFUSED 127.0.0.1:443", "fetch failed: getaddrinfo ENOTFOUND host": the first messages of the chain. */
export function causeSummary(error: unknown): string {
  const messages: string[] = [];
  for (const link of causeChain(error)) {
    const text = link instanceof Error ? link.message : String(link);
    if (text !== "" && !messages.includes(text)) messages.push(text);
  }
  return messages.length === 0 ? "unknown error" : messages.slice(0, 3).join(": ");
}
