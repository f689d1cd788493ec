/**
 * Tencent IM REST error codes that the client treats specially (SPEC.md "Facts about the Tencent IM
 * REST API"). Every other code is final: no retry, an ImApiError naming the code.
 */

/** Transient on Tencent's side or rate limits: retried with exponential backoff and full jitter. */
export const RETRYABLE_CODES: ReadonlySet<number> = new Set([
  60007, // REST API call rate over limit
  60008, // service timeout
  60011, // SDKAppID call rate over limit
  60013, // Tencent could not parse a response internally
  60014, // account exchange timeout
  60018, // requests too frequent
  60019, // requests too frequent
]);

/**
 * Rate limits (a subset of RETRYABLE_CODES). Tencent counts calls in one-second windows, so a retry
 * sooner than a second lands in the window that refused it: these wait at least RATE_WINDOW_MS, plus
 * full jitter, so that callers refused together spread over the windows that follow.
 */
export const RATE_LIMIT_CODES: ReadonlySet<number> = new Set([60007, 60011, 60018, 60019]);
export const RATE_WINDOW_MS = 1_000;

/** UserSig expired: regenerate the sig and retry once, straight away. */
export const SIG_EXPIRED_CODE = 70001;

/**
 * "Bad UserSig, and rate limited": Tencent locks the app out for about a minute after too many bad
 * sigs. Decision: wait a full minute (RATE_LOCKED_WAIT_MS, not capped by maxDelayMs, plus up to 10 %
 * jitter) and retry at most once per call. A second 70050 means the sig really is bad (usually the
 * wrong secret key), so hammering on would only extend the lock: it surfaces as a retryable ImApiError
 * and the caller's own retry (the queue's redelivery) comes much later.
 */
export const RATE_LOCKED_CODE = 70050;
export const RATE_LOCKED_WAIT_MS = 60_000;

/** What an operator should check for codes that mean the configuration is wrong, not the moment. */
const HINTS: Readonly<Record<number, string>> = {
  60002: "Tencent could not parse the HTTP request: check the base URL and any proxy in between",
  60003: "Tencent could not parse the JSON body",
  60004:
    "account or UserSig rejected: check the admin identifier (IM_ADMIN) and the secret key (IM_SECRET_KEY)",
  60005:
    "account or UserSig rejected: check the admin identifier (IM_ADMIN) and the secret key (IM_SECRET_KEY)",
  60006: "SDKAppID invalid: check IM_SDKAPPID and that the app exists in the IM console",
  60010:
    "the identifier is not an App admin: set IM_ADMIN to an admin account (console default: administrator)",
  60020: "the IM package has expired: check the app's billing in the IM console",
  60021: "this machine's IP is not allowed: check the IP allow-list of the app in the IM console",
  70001: "UserSig expired although freshly generated: check this machine's clock",
  70003: "UserSig could not be parsed: check the secret key (IM_SECRET_KEY)",
  70009: "UserSig verification failed: the secret key (IM_SECRET_KEY) does not match the app's key",
  70013: "UserSig identifier mismatch: check the admin identifier (IM_ADMIN)",
  70014: "UserSig SDKAppID mismatch: check IM_SDKAPPID against the secret key's app",
  70016: "Tencent has no key for this SDKAppID: check IM_SDKAPPID and the region (IM_REGION / IM_BASE_URL)",
  70020: "SDKAppID not found: check IM_SDKAPPID and the region (IM_REGION / IM_BASE_URL)",
  70050:
    "too many requests with a bad UserSig, locked for about a minute: check the secret key (IM_SECRET_KEY)",
  70051: "the admin account is blacklisted: check the account in the IM console",
  1002: "bad parameter: check that the identifier (IM_ADMIN) is an App admin and the request fields",
};

export function hintFor(code: number): string | undefined {
  return HINTS[code];
}
