/** Building the IM client's requests: the endpoint's origins, the signed query, the cached UserSig. */
import { randomInt } from "node:crypto";
import { ConfigError, ValidationError } from "../errors.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import { REGIONS, type Region } from "./types.ts";
import { genUserSig } from "./usersig.ts";

const NAME_RE = /^[A-Za-z0-9_]+$/;
const MIN_RENEW_MARGIN_SECONDS = 300;
/** The request's `random` is a 32-bit unsigned integer. */
const UINT32_RANGE = 2 ** 32;

/** "service/command", once both are known not to change the URL's path or query. */
export function commandName(service: string, command: string): string {
  if (!NAME_RE.test(service) || !NAME_RE.test(command)) {
    throw new ValidationError(
      `Tencent IM service and command must be [A-Za-z0-9_]+, got "${service}/${command}"`,
    );
  }
  return `${service}/${command}`;
}

/** The origins to send to: the region's primary and backup domain, or the one base URL given. */
export function originsOf(options: { baseUrl?: string; region?: Region }): readonly string[] {
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

export function hostOf(origin: string): string {
  return new URL(origin).host;
}

/**
 * {origin}/v4/{service}/{command}?sdkappid&identifier&usersig&random&contenttype=json, with a fresh
 * uint32 random for every request.
 */
export function requestUrl(
  origin: string,
  name: string,
  fields: { sdkAppId: number; identifier: string; userSig: string },
): string {
  const query = new URLSearchParams({
    sdkappid: String(fields.sdkAppId),
    identifier: fields.identifier,
    usersig: fields.userSig,
    // node:crypto's randomInt, not Web Crypto's getRandomValues: the first call of that loads
    // Web Crypto's modules, in every CLI run and cold start (bench/README.md, "IM client").
    random: String(randomInt(UINT32_RANGE)),
    contenttype: "json",
  });
  return `${origin}/v4/${name}?${query}`;
}

export interface UserSigCacheOptions {
  sdkAppId: number;
  identifier: string;
  secretKey: string;
  ttlSeconds: number;
  clock: Clock;
  logger: Logger;
}

/**
 * One cached UserSig, regenerated once less than the renewal margin of its validity is left: a
 * quarter of the validity, and never closer than 5 minutes to expiry (a short ttl then means a fresh
 * sig for every request, which is correct, just not cached).
 */
export class UserSigCache {
  /** The secret key and the sigs issued lately: blanked from any text that leaves the client. */
  readonly secrets: readonly string[];
  readonly #options: UserSigCacheOptions;
  readonly #renewMarginSeconds: number;
  readonly #secrets: string[];
  #sig: { value: string; renewAt: number } | undefined;

  constructor(options: UserSigCacheOptions) {
    this.#options = options;
    this.#renewMarginSeconds = Math.max(options.ttlSeconds / 4, MIN_RENEW_MARGIN_SECONDS);
    this.#secrets = [options.secretKey];
    this.secrets = this.#secrets;
  }

  current(): string {
    const { clock, ttlSeconds } = this.#options;
    const nowSeconds = Math.floor(clock.now() / 1000);
    if (this.#sig !== undefined && nowSeconds < this.#sig.renewAt) return this.#sig.value;
    const value = genUserSig({
      sdkAppId: this.#options.sdkAppId,
      identifier: this.#options.identifier,
      secretKey: this.#options.secretKey,
      expireSeconds: ttlSeconds,
      issuedAt: nowSeconds,
    });
    this.#sig = { value, renewAt: nowSeconds + ttlSeconds - this.#renewMarginSeconds };
    // Keep the last few sigs blanked too: an error may surface after its request's sig was renewed.
    this.#secrets.push(value);
    if (this.#secrets.length > 4) this.#secrets.splice(1, 1);
    this.#options.logger.debug("im UserSig generated", {
      issuedAt: nowSeconds,
      expiresAt: nowSeconds + ttlSeconds,
    });
    return value;
  }

  /** Drops the cached sig: the next request gets a new one (Tencent said it expired). */
  renew(): void {
    this.#sig = undefined;
  }
}
