import { ConfigError, ImApiError, ImvaultError } from "../errors.ts";
import { type Clock, systemClock } from "../util/clock.ts";
import { type Logger, silentLogger } from "../util/log.ts";
import { retry } from "../util/retry.ts";
import { sendAttempt } from "./attempt.ts";
import { SIG_EXPIRED_CODE } from "./codes.ts";
import { type RateLimit, RateLimiter } from "./rate-limit.ts";
import { redactText } from "./redact.ts";
import { commandName, hostOf, originsOf, requestUrl, UserSigCache } from "./request.ts";
import { imRetryDelay } from "./retry-policy.ts";
import { fetchTransport, httpTransport, type Transport } from "./transport.ts";
import type { Region } from "./types.ts";

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
  /**
   * Where every request takes its turn instead of this client's own limiter at ratePerSecond: e.g. a
   * file-backed one (createFileRateLimit) that the processes of one machine share.
   */
  rateLimit?: RateLimit;
  /** Per HTTP attempt, default 20_000. */
  timeoutMs?: number;
  /** Default 5, the first try included. */
  maxAttempts?: number;
  /**
   * Backoff with full jitter: delay = random() * min(maxDelayMs, baseDelayMs * 2^n); 250 / 10_000.
   * Rate-limit codes wait a second more, from a second up (see imRetryDelay).
   */
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

/**
 * Tencent IM REST client: signs requests with a cached UserSig, keeps them within a per-second rate limit,
 * retries what can be retried (exponential backoff, full jitter; rate limits across Tencent's
 * one-second windows), fails over to the region's backup domain when the primary cannot be reached,
 * and throws typed, secret-free errors.
 *
 * Attempts: `maxAttempts` bounds the tries of one call; a 70001 (UserSig expired) earns one immediate
 * extra request with a freshly generated sig, within its try.
 */
export class ImClient {
  /** The clock the client waits on; callers stamp answers with it (e.g. get_cos_sig's ExpiresAt). */
  readonly clock: Clock;
  readonly #sdkAppId: number;
  readonly #identifier: string;
  readonly #origins: readonly string[];
  readonly #limiter: RateLimit;
  readonly #timeoutMs: number;
  readonly #maxAttempts: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #sigs: UserSigCache;
  readonly #transport: Transport;
  readonly #random: () => number;
  readonly #logger: Logger;
  /** Index into #origins of the domain to try first; moves to the other one when a host is unreachable. */
  #preferred = 0;

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
    this.#origins = originsOf(options);
    this.clock = options.clock ?? systemClock;
    this.#timeoutMs = positive("timeoutMs", options.timeoutMs, 20_000);
    this.#maxAttempts = positiveInteger("maxAttempts", options.maxAttempts, 5);
    this.#baseDelayMs = positive("baseDelayMs", options.baseDelayMs, 250);
    this.#maxDelayMs = positive("maxDelayMs", options.maxDelayMs, 10_000);
    this.#logger = options.logger ?? silentLogger;
    this.#sigs = new UserSigCache({
      sdkAppId: options.sdkAppId,
      identifier: options.identifier,
      secretKey: options.secretKey,
      ttlSeconds: positiveInteger("sigTtlSeconds", options.sigTtlSeconds, 86_400),
      clock: this.clock,
      logger: this.#logger,
    });
    const rate = positive("ratePerSecond", options.ratePerSecond, 10);
    this.#limiter = options.rateLimit ?? new RateLimiter(rate, this.clock);
    this.#transport = options.fetch === undefined ? httpTransport : fetchTransport(options.fetch);
    this.#random = options.random ?? Math.random;
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
    const name = commandName(service, command);
    const payload = JSON.stringify(body ?? {});
    const { signal } = options;
    const extraRetryable = new Set(options.extraRetryableCodes ?? []);
    /** Requests sent so far (a 70001's immediate one included), and the log fields of the last. */
    let requests = 0;
    let fields: Record<string, unknown> = {};
    let sigRenewed = false;

    /** One try: a request, and a second one straight away with a new sig if Tencent says 70001. */
    const tryOnce = async (): Promise<Record<string, unknown>> => {
      for (;;) {
        const attempt = ++requests;
        await this.#limiter.take(signal);
        const originIndex = this.#preferred;
        const origin = this.#origins[originIndex]!;
        fields = { command: name, attempt, maxAttempts: this.#maxAttempts, host: hostOf(origin) };
        this.#logger.debug("im call attempt", fields);

        const url = requestUrl(origin, name, {
          sdkAppId: this.#sdkAppId,
          identifier: this.#identifier,
          userSig: this.#sigs.current(),
        });
        const context = {
          transport: this.#transport,
          clock: this.clock,
          timeoutMs: this.#timeoutMs,
          secrets: this.#sigs.secrets,
        };
        const result = await sendAttempt(context, { name, url, payload, attempt, extraRetryable, signal });
        if (result.ok) {
          const requestId = result.body.RequestId;
          this.#logger.debug("im call ok", {
            ...fields,
            requestId: typeof requestId === "string" ? redactText(requestId, this.#sigs.secrets) : undefined,
          });
          return result.body;
        }
        const { failure } = result;
        if (failure.unreachable && this.#origins.length > 1 && this.#preferred === originIndex) {
          // Compare-and-set: concurrent calls failing together move to the other domain once, not back.
          this.#preferred = (originIndex + 1) % this.#origins.length;
          this.#logger.warn("im host unreachable, switching domain", {
            ...fields,
            nextHost: hostOf(this.#origins[this.#preferred]!),
          });
        }
        if (failure.code === SIG_EXPIRED_CODE && !sigRenewed) {
          // Regenerate (it may have expired by a clock jump or a sleep) and retry once, straight away.
          sigRenewed = true;
          this.#sigs.renew();
          this.#logger.warn("im UserSig expired, regenerating and retrying once", {
            ...fields,
            code: failure.code,
          });
          continue;
        }
        throw failure.error;
      }
    };

    try {
      const answer = await retry(tryOnce, {
        attempts: this.#maxAttempts,
        isRetryable: (error) => error instanceof ImvaultError && error.retryable,
        delay: imRetryDelay({
          baseDelayMs: this.#baseDelayMs,
          maxDelayMs: this.#maxDelayMs,
          random: this.#random,
        }),
        clock: this.clock,
        ...(signal === undefined ? {} : { signal }),
        onRetry: ({ error, delayMs }) => {
          const reason = (error as Error).message;
          this.#logger.warn("im call retrying", { ...fields, code: codeOf(error), delayMs, reason });
        },
      });
      return answer as T;
    } catch (error) {
      if (error instanceof ImvaultError && !(signal?.aborted ?? false)) {
        this.#logger.warn("im call failed", {
          ...fields,
          code: codeOf(error),
          retryable: error.retryable,
          reason: error.message,
        });
      }
      throw error;
    }
  }
}

function codeOf(error: unknown): number | undefined {
  return error instanceof ImApiError ? error.code : undefined;
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
