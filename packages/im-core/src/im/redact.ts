import { inspect } from "node:util";

/**
 * Keeps the secret key and UserSigs out of messages, stacks and logs. The request URL carries the sig
 * (`usersig=`), and undici may echo a URL in an error or its cause, so anything that came from below
 * the client goes through here before it is thrown or logged.
 */

const REDACTED = "[redacted]";
/** `usersig=` up to the next query separator, in any case, however the URL was quoted. */
const USERSIG_PARAM = /(usersig=)[^&\s"'<>#]*/gi;
/** Shorter "secrets" are test values; blanking every occurrence of them would garble all text. */
const MIN_SECRET_LENGTH = 8;

export function redactText(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(USERSIG_PARAM, `$1${REDACTED}`);
  for (const secret of secrets) {
    if (secret.length >= MIN_SECRET_LENGTH) out = out.split(secret).join(REDACTED);
  }
  return out;
}

/** Primitive properties of Node/undici errors worth keeping (they say what failed, not with what). */
const KEPT_PROPERTIES = ["code", "errno", "syscall", "hostname", "address", "port", "status"] as const;
const MAX_DEPTH = 5;

/**
 * A copy of an error (and its cause chain and AggregateError members) with every text redacted:
 * message, stack and kept properties. Non-Error values become redacted text.
 */
export function sanitizeError(error: unknown, secrets: readonly string[] = [], depth = 0): unknown {
  if (!(error instanceof Error)) {
    return redactText(typeof error === "string" ? error : inspect(error, { depth: 2 }), secrets);
  }
  const cause =
    error.cause === undefined || depth >= MAX_DEPTH
      ? undefined
      : sanitizeError(error.cause, secrets, depth + 1);
  const copy = new Error(
    redactText(error.message, secrets),
    cause === undefined ? undefined : { cause },
  ) as Error & Record<string, unknown>;
  copy.name = error.name;
  copy.stack = error.stack === undefined ? undefined : redactText(error.stack, secrets);
  const source = error as unknown as Record<string, unknown>;
  for (const key of KEPT_PROPERTIES) {
    const value = source[key];
    if (typeof value === "number") copy[key] = value;
    else if (typeof value === "string") copy[key] = redactText(value, secrets);
  }
  if (error instanceof AggregateError && depth < MAX_DEPTH) {
    copy.errors = error.errors.map((member) => sanitizeError(member, secrets, depth + 1));
  }
  return copy;
}
