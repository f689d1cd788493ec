import { randomInt } from "node:crypto";
import {
  ConfigError,
  ImApiError,
  ImTransportError,
  type ImvaultError,
  TimeoutError,
  ValidationError,
} from "../errors.ts";
import { type Clock, systemClock } from "../util/clock.ts";
import { type Logger, silentLogger } from "../util/log.ts";
import { backoffDelay } from "./backoff.ts";
import {
  hintFor,
  RATE_LOCKED_CODE,
  RATE_LOCKED_WAIT_MS,
  RETRYABLE_CODES,
  SIG_EXPIRED_CODE,
} from "./codes.ts";
import { RateLimiter } from "./rate-limit.ts";
import { redactText, sanitizeError } from "./redact.ts";
import { CONNECT_TIMEOUT_CODE, fetchTransport, httpTransport, type Transport } from "./transport.ts";
import { REGIONS, type Region } from "./types.ts";
import { genUserSig } from "./usersig.ts";

export interface ImClientOptions {
  sdkAppId: number;
  /** An App admin account (console default: administrator). */
  identifier: string;
  secretKey: string;
  /** Default "cn"; see REGIONS (primary, backup domain). */
  region?: Region;
  /** Overrides the region's domain entirely (e.g. http://127.0.0.1:8080, a simulator); no backup then. */
  baseUrl?: string;
  /** Calls per second, shared by every call of this client (at most this many in any second); default 10. */
  ratePerSecond?: number;
  /** Per HTTP attempt, default 20_000. */
  timeoutMs?: number;
  /** Default 5, the first try included. */
  maxAttempts?: number;
  /** Backoff with full jitter: delay = random() * min(maxDelayMs, baseDelayMs * 2^n); 250 / 10_000. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Validity of the generated UserSig, default 86_400. */
  sigTtlSeconds?: number;
  clock?: Clock;
  /** Sends requests with this fetch (tests inject fakes); without one, node:http(s) (see httpTransport). */
  fetch?: typeof fetch;
  random?: () => number;
  logger?: Logger;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Call-specific codes worth retrying with backoff (get_history: 1003). */
  extraRetryableCodes?: readonly number[];
}

/** What one HTTP attempt ended with, when it did not end with an OK answer. */
interface Failure {
  error: ImvaultError;
  /** Retrying the same request later may succeed. */
  retryable: boolean;
  /** Tencent's ErrorCode, when it answered at all. */
  code?: number;
  /** The host could not be reached (DNS, refused, unreachable): worth the backup domain. */
  unreachable?: boolean;
}

type AttemptResult = { ok: true; body: Record<string, unknown> } | { ok: false; failure: Failure };

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

const NAME_RE = /^[A-Za-z0-9_]+$/;
const MIN_RENEW_MARGIN_SECONDS = 300;
/** The request's `random` is a 32-bit unsigned integer. */
const UINT32_RANGE = 2 ** 32;

/**
 * Tencent IM REST client: signs requests with a cached UserSig, keeps them within a per-second rate limit,
 * retries what can be retried (exponential backoff, full jitter), fails over to the region's backup
 * domain when the primary cannot be reached, and throws typed, secret-free errors.
 *
 * Attempts: `maxAttempts` bounds the requests of one call, except that a 70001 (UserSig expired) earns
 * one immediate extra request with a freshly generated sig.
 */
export class ImClient {
  /** The clock the client waits on; callers stamp answers with it (e.g. get_cos_sig's ExpiresAt). */
  readonly clock: Clock;
  readonly #sdkAppId: number;
  readonly #identifier: string;
  readonly #secretKey: string;
  readonly #origins: readonly string[];
  readonly #limiter: RateLimiter;
  readonly #timeoutMs: number;
  readonly #maxAttempts: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #sigTtlSeconds: number;
  readonly #renewMarginSeconds: number;
  readonly #transport: Transport;
  readonly #random: () => number;
  readonly #logger: Logger;
  /** Index into #origins of the domain to try first; moves to the other one when a host is unreachable. */
  #preferred = 0;
  #sig: { value: string; renewAt: number } | undefined;
  /** The secret key and the sigs issued lately: blanked from any text that leaves the client. */
  readonly #secrets: string[];

  constructor(options: ImClientOptions) {
    if (!Number.isSafeInteger(options.sdkAppId) || options.sdkAppId <= 0 || options.sdkAppId > 0xffffffff) {
      throw new ConfigError("sdkAppId", "must be a positive integer (the app's SDKAppID)");
    }
    if (typeof options.identifier !== "string" || options.identifier === "") {
      throw new ConfigError("identifier", "must name an App admin account");
    }
    if (typeof options.secretKey !== "string" || options.secretKey === "") {
      throw new ConfigError("secretKey", "must be the app's secret key from the IM console");
    }
    this.#sdkAppId = options.sdkAppId;
    this.#identifier = options.identifier;
    this.#secretKey = options.secretKey;
    this.#secrets = [options.secretKey];
    this.#origins = originsOf(options);
    this.clock = options.clock ?? systemClock;
    this.#timeoutMs = positive("timeoutMs", options.timeoutMs, 20_000);
    this.#maxAttempts = positiveInteger("maxAttempts", options.maxAttempts, 5);
    this.#baseDelayMs = positive("baseDelayMs", options.baseDelayMs, 250);
    this.#maxDelayMs = positive("maxDelayMs", options.maxDelayMs, 10_000);
    this.#sigTtlSeconds = positiveInteger("sigTtlSeconds", options.sigTtlSeconds, 86_400);
    // Renew with a quarter of the validity left, and never closer than 5 minutes to expiry (a short
    // ttl then means a fresh sig for every request, which is correct, just not cached).
    this.#renewMarginSeconds = Math.max(this.#sigTtlSeconds / 4, MIN_RENEW_MARGIN_SECONDS);
    this.#limiter = new RateLimiter(positive("ratePerSecond", options.ratePerSecond, 10), this.clock);
    this.#transport = options.fetch === undefined ? httpTransport : fetchTransport(options.fetch);
    this.#random = options.random ?? Math.random;
    this.#logger = options.logger ?? silentLogger;
  }

  /**
   * POST https://{domain}/v4/{service}/{command}?sdkappid&identifier&usersig&random&contenttype=json
   * with a JSON body. Returns the parsed answer when ActionStatus is OK; otherwise throws ImApiError
   * (Tencent said no), ImTransportError (the exchange failed) or TimeoutError. An aborted signal
   * rejects with the signal's reason.
   */
  async call<T extends object>(
    service: string,
    command: string,
    body: object,
    options: CallOptions = {},
  ): Promise<T> {
    if (!NAME_RE.test(service) || !NAME_RE.test(command)) {
      throw new ValidationError(
        `Tencent IM service and command must be [A-Za-z0-9_]+, got "${service}/${command}"`,
      );
    }
    const name = `${service}/${command}`;
    const payload = JSON.stringify(body ?? {});
    const { signal } = options;
    const extraRetryable = new Set(options.extraRetryableCodes ?? []);
    let attempt = 0;
    let retries = 0;
    let sigRenewed = false;
    let lockWaited = false;

    for (;;) {
      attempt++;
      await this.#limiter.take(signal);
      const originIndex = this.#preferred;
      const origin = this.#origins[originIndex]!;
      const fields = { command: name, attempt, maxAttempts: this.#maxAttempts, host: hostOf(origin) };
      this.#logger.debug("im call attempt", fields);

      const endpoint = `${origin}/v4/${service}/${command}`;
      const result = await this.#attempt(name, endpoint, payload, attempt, extraRetryable, signal);
      if (result.ok) {
        const requestId = result.body.RequestId;
        this.#logger.debug("im call ok", {
          ...fields,
          requestId: typeof requestId === "string" ? redactText(requestId, this.#secrets) : undefined,
        });
        return result.body as T;
      }
      const { failure } = result;
      const code = failure.code;
      const reason = failure.error.message;

      if (failure.unreachable && this.#origins.length > 1 && this.#preferred === originIndex) {
        // Compare-and-set: concurrent calls failing together move to the other domain once, not back.
        this.#preferred = (originIndex + 1) % this.#origins.length;
        this.#logger.warn("im host unreachable, switching domain", {
          ...fields,
          nextHost: hostOf(this.#origins[this.#preferred]!),
        });
      }

      if (code === SIG_EXPIRED_CODE && !sigRenewed) {
        // Regenerate (it may have expired by a clock jump or a sleep) and retry once, straight away.
        sigRenewed = true;
        this.#sig = undefined;
        this.#logger.warn("im UserSig expired, regenerating and retrying once", { ...fields, code });
        continue;
      }

      let delayMs: number | undefined;
      if (attempt < this.#maxAttempts) {
        if (code === RATE_LOCKED_CODE) {
          if (!lockWaited) {
            lockWaited = true;
            delayMs = RATE_LOCKED_WAIT_MS + Math.floor(this.#random() * RATE_LOCKED_WAIT_MS * 0.1);
          }
        } else if (failure.retryable) {
          delayMs = backoffDelay(retries++, {
            baseDelayMs: this.#baseDelayMs,
            maxDelayMs: this.#maxDelayMs,
            random: this.#random,
          });
        }
      }
      if (delayMs === undefined) {
        this.#logger.warn("im call failed", { ...fields, code, retryable: failure.retryable, reason });
        throw failure.error;
      }
      this.#logger.warn("im call retrying", { ...fields, code, delayMs, reason });
      await this.clock.sleep(delayMs, signal);
    }
  }

  /** One HTTP request, bounded by timeoutMs on the client's clock. Never throws except on abort. */
  async #attempt(
    name: string,
    endpoint: string,
    payload: string,
    attempt: number,
    extraRetryable: ReadonlySet<number>,
    signal: AbortSignal | undefined,
  ): Promise<AttemptResult> {
    const query = new URLSearchParams({
      sdkappid: String(this.#sdkAppId),
      identifier: this.#identifier,
      usersig: this.#currentSig(),
      // node:crypto's randomInt, not Web Crypto's getRandomValues: the first call of that loads
      // Web Crypto's modules, in every CLI run and cold start (bench/README.md, "IM client").
      random: String(randomInt(UINT32_RANGE)),
      contenttype: "json",
    });
    const attemptAbort = new AbortController();
    const timerAbort = new AbortController();
    let timedOut = false;
    this.clock.sleep(this.#timeoutMs, timerAbort.signal).then(
      () => {
        timedOut = true;
        attemptAbort.abort();
      },
      () => {}, // cancelled: the attempt finished first
    );
    const requestSignal =
      signal === undefined ? attemptAbort.signal : AbortSignal.any([signal, attemptAbort.signal]);
    let status: number | undefined;
    try {
      const response = await untilAborted(
        this.#transport(`${endpoint}?${query}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: payload,
          signal: requestSignal,
        }),
        requestSignal,
      );
      status = response.status;
      if (status !== 200) {
        response.discard();
        // Tencent answers 200 unless the network in between failed (502 etc.): 5xx and 429 are
        // transient, any other status means the URL is wrong (a bad base URL, a proxy refusing).
        const retryable = status >= 500 || status === 429;
        return failed(
          new ImTransportError(`Tencent IM ${name} answered HTTP ${status} (attempt ${attempt})`, {
            status,
            retryable,
          }),
          retryable,
        );
      }
      const text = await untilAborted(response.text(), requestSignal);
      return this.#interpret(name, text, extraRetryable);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (timedOut) {
        return failed(
          new TimeoutError(
            `Tencent IM ${name} did not answer within ${this.#timeoutMs} ms (attempt ${attempt})`,
            {
              command: name,
              timeoutMs: this.#timeoutMs,
              attempt,
            },
          ),
          true,
        );
      }
      const cause = sanitizeError(error, this.#secrets);
      const detail = causeSummary(cause);
      return {
        ok: false,
        failure: {
          error: new ImTransportError(
            `Tencent IM ${name} request failed${status === undefined ? "" : ` reading HTTP ${status}`}: ${detail} (attempt ${attempt})`,
            { cause, ...(status === undefined ? {} : { status }) },
          ),
          retryable: true,
          unreachable: isUnreachable(error),
        },
      };
    } finally {
      timerAbort.abort();
    }
  }

  /** Reads a 200 answer: OK → the body; FAIL → ImApiError; anything else → unparsable (retryable). */
  #interpret(name: string, text: string, extraRetryable: ReadonlySet<number>): AttemptResult {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
      return failed(
        new ImTransportError(`Tencent IM ${name} answered a body that is not a JSON object`),
        true,
      );
    }
    const answer = body as Record<string, unknown>;
    if (answer.ActionStatus === "OK") return { ok: true, body: answer };
    if (typeof answer.ErrorCode !== "number") {
      return failed(
        new ImTransportError(`Tencent IM ${name} answered without ActionStatus OK or a numeric ErrorCode`),
        true,
      );
    }
    const code = answer.ErrorCode;
    const retryable = RETRYABLE_CODES.has(code) || code === RATE_LOCKED_CODE || extraRetryable.has(code);
    const error = new ImApiError({
      command: name,
      code,
      info: redactText(typeof answer.ErrorInfo === "string" ? answer.ErrorInfo : "", this.#secrets),
      requestId:
        typeof answer.RequestId === "string" ? redactText(answer.RequestId, this.#secrets) : undefined,
      retryable,
      hint: hintFor(code),
    });
    return { ok: false, failure: { error, retryable, code } };
  }

  /** The cached UserSig, regenerated once less than the renewal margin of its validity is left. */
  #currentSig(): string {
    const nowSeconds = Math.floor(this.clock.now() / 1000);
    if (this.#sig !== undefined && nowSeconds < this.#sig.renewAt) return this.#sig.value;
    const value = genUserSig({
      sdkAppId: this.#sdkAppId,
      identifier: this.#identifier,
      secretKey: this.#secretKey,
      expireSeconds: this.#sigTtlSeconds,
      issuedAt: nowSeconds,
    });
    this.#sig = { value, renewAt: nowSeconds + this.#sigTtlSeconds - this.#renewMarginSeconds };
    // Keep the last few sigs blanked too: an error may surface after its request's sig was renewed.
    this.#secrets.push(value);
    if (this.#secrets.length > 4) this.#secrets.splice(1, 1);
    this.#logger.debug("im UserSig generated", {
      issuedAt: nowSeconds,
      expiresAt: nowSeconds + this.#sigTtlSeconds,
    });
    return value;
  }
}

function failed(error: ImvaultError, retryable: boolean): AttemptResult {
  return { ok: false, failure: { error, retryable } };
}

function originsOf(options: ImClientOptions): readonly string[] {
  if (options.baseUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch {
      throw new ConfigError("baseUrl", "is not a URL");
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new ConfigError("baseUrl", "must be an http or https URL");
    }
    if (url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== "") {
      throw new ConfigError("baseUrl", "must have no query, fragment or credentials");
    }
    return [`${url.origin}${url.pathname.replace(/\/+$/, "")}`];
  }
  const region = options.region ?? "cn";
  if (!Object.hasOwn(REGIONS, region)) {
    throw new ConfigError("region", `must be one of ${Object.keys(REGIONS).join(", ")}`);
  }
  return REGIONS[region].map((domain) => `https://${domain}`);
}

function hostOf(origin: string): string {
  return new URL(origin).host;
}

function positive(setting: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(value > 0) || !Number.isFinite(value)) throw new ConfigError(setting, "must be a positive number");
  return value;
}

function positiveInteger(setting: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new ConfigError(setting, "must be a positive integer");
  return value;
}

/** Settles like `promise`, or rejects as soon as `signal` aborts (a transport that ignores its signal cannot hang us). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

function* causeChain(error: unknown): Generator<unknown> {
  let current = error;
  for (let depth = 0; depth < 6 && current !== undefined; depth++) {
    yield current;
    if (current instanceof AggregateError) for (const member of current.errors) yield* causeChain(member);
    current = current instanceof Error ? current.cause : undefined;
  }
}

function isUnreachable(error: unknown): boolean {
  for (const link of causeChain(error)) {
    const code = (link as { code?: unknown } | null)?.code;
    if (typeof code === "string" && UNREACHABLE_CODES.has(code)) return true;
  }
  return false;
}

/** "connect ECONNREFUSED 127.0.0.1:443", "fetch failed: getaddrinfo ENOTFOUND host": the first messages of the chain. */
function causeSummary(error: unknown): string {
  const messages: string[] = [];
  for (const link of causeChain(error)) {
    const text = link instanceof Error ? link.message : String(link);
    if (text !== "" && !messages.includes(text)) messages.push(text);
  }
  return messages.length === 0 ? "unknown error" : messages.slice(0, 3).join(": ");
}
