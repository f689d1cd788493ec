import type { ChatType } from "@imvault/im-core";
import type { HourVolume } from "./generator.ts";

/** Documented test values: what the simulator (and its CLI) use when nothing else is given. */
export const TEST_SDKAPPID = 1400000000;
export const TEST_SECRET_KEY = "imvault-sim-test-secret-key-not-a-real-one";
export const TEST_ADMIN = "administrator";

/** An hour as the simulator keys it: "C2C:2024010203". */
export type HourKeyText = `${ChatType}:${string}`;

/** A volume: a number is a message count. 0 messages = an hour with no messages (1004 for good). */
export type VolumeSetting = number | HourVolume;

export interface SimulatorOptions {
  /** Default TEST_SDKAPPID. */
  sdkAppId?: number;
  /** Default TEST_SECRET_KEY. */
  secretKey?: string;
  /** Identifiers that count as App admins. Default ["administrator"]. */
  admins?: readonly string[];
  /** Everything generated (histories, media URLs, random faults' defaults) follows from it. Default "imvault-sim". */
  seed?: string | number;
  /** Port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /** An hour's files are deleted (1005) this long after the hour ends. Default 168 (7 days). */
  retentionHours?: number;
  /** An hour's files exist (else 1004) only this long after the hour ends. Default 60. */
  processingDelayMinutes?: number;
  /** Hours with no messages (1004 however old): keys like "C2C:2024010203", or a predicate. */
  emptyHours?: Iterable<HourKeyText> | ((chatType: ChatType, msgTime: string) => boolean);
  /**
   * Messages per hour (a number or {messages}), or plain bytes per hour ({bytes}); or a function of
   * the chat type and hour. Default: a seeded 1,000 – 3,000 messages per hour and chat type.
   */
  volume?: VolumeSetting | ((chatType: ChatType, msgTime: string) => VolumeSetting);
  /** A file is closed once its plain size reaches this; busy hours get several files. Default 512 MiB. */
  maxFileBytes?: number;
  /**
   * Keep each hour's generated GZip files in this directory (written in the figures pass, reused by
   * later starts with the same settings) and serve downloads from it instead of regenerating them.
   * Default: none (bytes regenerated on every download; memory and disk stay flat).
   */
  cacheDir?: string;
  /** GZip level of the history files (1 – 9). Default 6. */
  gzipLevel?: number;
  /** Calls per second per app and command before 60007. Default 10 (Tencent's current limit). */
  rateLimitPerSecond?: number;
  /** Lifetime of get_history download URLs (ExpireTime). Default 3600. */
  urlTtlSeconds?: number;
  /** Lifetime of get_cos_sig PreSigURLs. Default 900 (Tencent: 15 minutes). */
  presignTtlSeconds?: number;
  /** Media URLs that get_cos_sig reports banned (Status 1): exact RawURLs or a predicate. */
  bannedUrls?: Iterable<string> | ((rawUrl: string) => boolean);
  /** Media URLs that get_cos_sig reports missing (Status 2): exact RawURLs or a predicate. */
  missingUrls?: Iterable<string> | ((rawUrl: string) => boolean);
  /** Fraction (0 – 1) of the simulator's own media URLs that are banned, chosen by a seeded hash. Default 0.02. */
  bannedFraction?: number;
  /** Fraction (0 – 1) of the simulator's own media URLs that are missing, chosen by a seeded hash. Default 0.01. */
  missingFraction?: number;
  /** Time as the simulator sees it (ms since the epoch), for hour availability, retention, sig and URL expiry, rate limit. */
  clock?: { now(): number };
  /** Origin put in download and PreSigURLs instead of the simulator's own (e.g. behind a proxy). */
  downloadBaseUrl?: string;
  /** How many requests and downloads are remembered (the oldest are dropped). Default 10,000 each. */
  maxRecords?: number;
  /** Serve the /__sim control routes. Default true. */
  controlApi?: boolean;
}
