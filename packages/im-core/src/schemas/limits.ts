import type { Region } from "../im/types.ts";

/**
 * Every default and every limit of imvault's settings and inputs, defined once. The settings loader
 * (@imvault/runtime), the CLI (its help text and argument ranges), im-core's own checks and the
 * deployment read them from here, so that nothing else needs to spell 72, 6, 10 or 31 days.
 */

/** SPEC "Environment": Tencent's history download hosts (IM_DOWNLOAD_HOSTS overrides them). */
export const DEFAULT_DOWNLOAD_HOSTS: readonly string[] = [
  "*.tim.qq.com",
  "*.im.qcloud.com",
  "*.my-imcloud.com",
  "*.myqcloud.com",
];

/** Where Tencent keeps message media (COS): RawURLs on these hosts are always lookups' business. */
export const COS_MEDIA_HOSTS: readonly string[] = ["*.myqcloud.com"];

/**
 * The hosts the lookup API accepts RawURLs on when COS_URL_HOSTS is unset (SPEC: https on
 * `*.myqcloud.com` or the IM download hosts): the COS media hosts, then the download hosts in
 * effect, which follow IM_DOWNLOAD_HOSTS and include IM_BASE_URL's origin when one is set.
 */
export function cosUrlHostsFor(downloadHosts: readonly string[]): string[] {
  return [...new Set([...COS_MEDIA_HOSTS, ...downloadHosts])];
}

/** COS_URL_HOSTS when nothing is set: `*.myqcloud.com` and the default download hosts. */
export const DEFAULT_COS_URL_HOSTS: readonly string[] =
  /* @__PURE__ */ cosUrlHostsFor(DEFAULT_DOWNLOAD_HOSTS);

/** The value of every optional setting when it is not set (README "Configuration" lists them). */
export const DEFAULTS = {
  /** IM_ADMIN: the App admin the REST calls are made as (the console's default account). */
  admin: "administrator",
  /** IM_REGION. */
  region: "cn" as Region,
  /** IM_RATE_LIMIT: Tencent's REST limit for an app, calls per second (SPEC: the safe side). */
  ratePerSecond: 10,
  /** LOOKBACK_HOURS: how many ended hours the scheduler plans (SPEC: the older page's 3 days). */
  lookbackHours: 72,
  /** SETTLE_HOURS: how long after an hour ends a 1004 still means "not generated yet". */
  settleHours: 6,
  /** MAX_ATTEMPTS_PER_FILE: download attempts per history file, the first included. */
  maxAttemptsPerFile: 5,
  /** DOWNLOAD_IDLE_TIMEOUT_SECONDS: a download with no byte for this long is stalled. */
  downloadIdleTimeoutSeconds: 30,
  /** RETRY_BASE_DELAY_MS: base of the backoff between attempts of one file. */
  retryBaseDelayMs: 1000,
  /** IM_RETENTION_DAYS: how long Tencent keeps history files (7 days, RESEARCH "Tencent IM"). */
  retentionDays: 7,
  /**
   * IM_MEDIA_RETENTION_DAYS: how long Tencent keeps message media (SPEC "Rich media": as long as
   * history, 7 days on Trial and Pro). Media still uncaptured at half of it raise MediaOverdue.
   */
  mediaRetentionDays: 7,
  /**
   * IM_MEDIA_CONCURRENCY: media downloads (and store look-ups) of one hour at the same time. 16, not
   * 4: most media are small, and each object's put waits on the disk (its fsync) while others
   * download (bench/README.md "Media capture").
   */
  mediaConcurrency: 16,
  /** DATA_DIR: the local store, relative to the working directory. */
  dataDir: "./data",
  /** PORT: `imvault dev`'s API on 127.0.0.1. */
  port: 3000,
  /** API_MAX_ITEMS: RawURLs in one cos-sig lookup. */
  maxItems: 100,
  /** API_MAX_BODY_BYTES: 100 items of ~300-byte COS URLs is ~30 KB; twice that still bounds parsing. */
  maxBodyBytes: 64 * 1024,
  /** Archive download links live this long: enough to start a download, short enough if leaked. */
  downloadTtlSeconds: 300,
  /** RETENTION_MODE: S3 Object Lock's mode (compliance only with RETENTION_COMPLIANCE_CONFIRM). */
  retentionMode: "governance" as "governance" | "compliance",
  /** RETENTION_DAYS: how long each archived object stays locked after its hour ends (SEC 17a-4: 3 years). */
  objectRetentionDays: 1095,
  /**
   * ATHENA_SCAN_LIMIT_GB (deploy time): Athena cancels a search that would read more than this (and
   * bills only what it read: $5 per TB, so a cancelled search costs at most ~5 cents).
   */
  athenaScanLimitGb: 10,
  /** ATHENA_RESULTS_DAYS (deploy time): search results (Athena's output files) are deleted after this. */
  athenaResultsDays: 1,
} as const;

/** What RETENTION_COMPLIANCE_CONFIRM must say before compliance mode, which nobody can undo, is set. */
export const COMPLIANCE_CONFIRMATION = "yes-i-understand";

/** How digests are sealed and checked (docs/evidence.md). Not settings: the evidence's own rules. */
export const EVIDENCE = {
  /**
   * A digest seals what was modified since the previous digest's listing began, less this overlap:
   * S3 dates a multipart upload by its start (an archive Lambda runs up to 15 minutes) and clocks
   * differ a little. What the recent digests sealed already is not sealed again.
   */
  sealOverlapMs: 30 * 60_000,
  /** A committed object no digest seals is reported by verify; after this long it is a failure. */
  unsealedGraceMs: 2 * 3_600_000,
  /** The scheduler seals an empty digest when the head is older than this (one at least every hour). */
  emptyDigestAfterMs: 30 * 60_000,
  /** Objects one digest seals at most (a first digest over a large archive is sealed in parts). */
  maxObjectsPerDigest: 5000,
  /** Sealers that keep losing the race to another give up after this many tries. */
  maxSealAttempts: 8,
  /** Objects hashed at once while sealing or verifying. */
  concurrency: 4,
  /** How long state objects (the head hint, the last verification) are locked in the bucket. */
  stateRetentionDays: 1,
} as const;

/** An inclusive range of a numeric setting (no `max`: any larger safe number). */
export interface Range {
  readonly min: number;
  readonly max?: number;
}

/** What each setting and input may be. */
export const LIMITS = {
  /**
   * The longest window of hours one command or request covers: `imvault archive`, a backfill, the
   * status table (CLI and `/v1/status`). 31 days: Tencent keeps at most 7, so this only bounds work.
   */
  maxWindowHours: 24 * 31,
  sdkAppId: { min: 1 },
  ratePerSecond: { min: 0.01, max: 1000 },
  lookbackHours: { min: 1, max: 24 * 30 },
  /** Also below the lookback (the settings loader checks both). */
  settleHours: { min: 0, max: 24 * 30 },
  maxAttemptsPerFile: { min: 1, max: 100 },
  downloadIdleTimeoutSeconds: { min: 0.05, max: 900 },
  retryBaseDelayMs: { min: 0, max: 600_000 },
  /** Tencent's editions keep history 7 days and media up to 90 (RESEARCH "Tencent IM"). */
  retentionDays: { min: 1, max: 90 },
  /** Tencent keeps media 7 to 90 days by edition (30 on Ultimate, 90 on Enterprise). */
  mediaRetentionDays: { min: 1, max: 90 },
  mediaConcurrency: { min: 1, max: 64 },
  maxItems: { min: 1, max: 1000 },
  /** API Gateway's payload limit is 6 MB (also Lambda's). */
  maxBodyBytes: { min: 1024, max: 6 * 1024 * 1024 },
  /** API tokens shorter than this are refused at start-up: a bearer token must not be guessable. */
  minApiTokenChars: 16,
  /** The HMAC key of the local store's signed download URLs. */
  minUrlSigningKeyChars: 16,
  /** RETENTION_DAYS: at most 100 years. */
  objectRetentionDays: { min: 1, max: 36500 },
  /** Athena's own bounds on a workgroup's bytes-scanned cutoff: 10 MB to 7 EB (whole GB here). */
  athenaScanLimitGb: { min: 1, max: 1_000_000 },
  athenaResultsDays: { min: 1, max: 365 },
} as const satisfies Record<string, number | Range>;

/** Media capture's own sizes (not settings). */
export const MEDIA_CAPTURE_LIMITS = {
  /**
   * A download whose Content-Length is at most this is read whole into memory, hashed and written
   * in one piece instead of streamed: per small object, the stream machinery cost more CPU than its
   * bytes (bench/README.md "Media capture"). At most IM_MEDIA_CONCURRENCY of them at once per hour
   * captured: 16 MiB at the highest concurrency.
   */
  wholeBodyBytes: 256 * 1024,
} as const;

/** Exports for review (`imvault export`, docs/export.md). */
export const EXPORT_LIMITS = {
  /** Relativity's advice for an RSMF file, applied to every format: a slice past it is split. */
  maxEventsPerSlice: 10_000,
  /** Media manifests kept in memory while exporting: two days of both chat types, read once each. */
  mediaManifestCache: 96,
  /**
   * Rows whose media are resolved ahead of the one being written: the media copied into an export
   * (or, for rsmf, looked up in the store) at the same time.
   */
  mediaCopyConcurrency: 8,
  /**
   * rsmf: a medium up to this size is read whole and added to rsmf.zip in one piece (its CRC-32 in
   * its local header); a bigger one is streamed through (its CRC-32 after it, in a data descriptor).
   */
  rsmfWholeMediaBytes: 1024 * 1024,
  /** rsmf: media read ahead of the one being added to rsmf.zip. */
  rsmfPrefetch: 4,
  /** Through the API: how often the export job asks Athena whether its query has finished. */
  athenaPollMs: 1_000,
  /** Through the API: rows per GetQueryResults call (Athena's most). */
  athenaPageSize: 1_000,
  /**
   * Through the API: days an export's files (`exports/{id}/…`) are kept in the bucket, locked that
   * long and then expired by a lifecycle rule, not kept for the archive's retention.
   */
  keepDays: 7,
} as const;
