import { COMPLIANCE_CONFIRMATION, DEFAULTS, LIMITS, REGIONS, type Region } from "@imvault/im-core/constants";

const ARCHIVE_TIMEOUT_SECONDS = 15 * 60; // the Lambda maximum: one batch of hours must fit in it
const BATCH_WINDOW_SECONDS = 10;

/** How the archive path is sized: the queue, the archive function and its event source follow from it. */
export const ARCHIVE = {
  timeoutSeconds: ARCHIVE_TIMEOUT_SECONDS,
  batchSize: 2, // the schedule sends an hour's C2C and Group jobs together
  batchWindowSeconds: BATCH_WINDOW_SECONDS,
  // AWS: visibility timeout >= 6 x function timeout (+ the batching window), so a message is not
  // redelivered while an invocation that holds it (with Lambda's own retries) is still running.
  // Side effect: a job reported failed (partial batch response) is received again only when this
  // timeout runs out, unless the handler shortens it (ChangeMessageVisibility, which it may call).
  visibilityTimeoutSeconds: 6 * ARCHIVE_TIMEOUT_SECONDS + BATCH_WINDOW_SECONDS,
  // Tencent's REST rate limit is per app, across every caller. Each archive instance paces its own
  // Tencent calls (the IM client's rate limiter, at ImApp.rateLimit), so the app-wide rate is at most
  // (concurrent archive instances) x (per-instance rate). The SQS event source caps concurrent archive
  // invocations here (2 is the smallest value AWS accepts) and each instance gets an equal share of
  // IM_RATE_LIMIT. A history job makes about one get_history call, then downloads from COS (not
  // rate-limited); a media job one get_cos_sig call per 100 media URLs (and one per PreSigURL that
  // lapses), then downloads from COS. Both go through the instance's one ImClient, so two workers keep
  // up with a full lookback backlog and never exceed the app's rate together. The schedule function never calls Tencent;
  // the API's get_cos_sig calls are bounded by the API Gateway throttle (infra/api.ts).
  maxConcurrency: 2,
} as const;

/** The deploy-time settings, read from the shell or `.env.<stage>` and validated. */
export interface Settings {
  production: boolean;
  sdkAppId: number;
  admin: string;
  region: Region;
  /** "" = the region's domains */
  baseUrl: string;
  /** Tencent's calls/s for ONE archive instance: IM_RATE_LIMIT (the app's) shared among ARCHIVE.maxConcurrency. */
  perInstanceRate: number;
  lookbackHours: number;
  settleHours: number;
  maxAttemptsPerFile: number;
  /** How long Tencent keeps media: the scheduler plans media jobs this far back, MediaOverdue at half. */
  mediaRetentionDays: number;
  /** Downloads of one hour's media at once, in one archive instance (x2 with a batch of two). */
  mediaConcurrency: number;
  /** "" = SPEC's default allow-list */
  downloadHosts: string;
  /** "" = *.myqcloud.com + the download hosts */
  cosUrlHosts: string;
  rawColdAfterDays: number;
  noncurrentVersionDays: number;
  /**
   * S3 Object Lock: the bucket's default retention and each object's (until its hour's end plus the
   * days). Compliance mode cannot be shortened or lifted by anyone, root included, so it needs
   * RETENTION_COMPLIANCE_CONFIRM=yes-i-understand; governance mode can, with s3:BypassGovernanceRetention.
   */
  retentionMode: "governance" | "compliance";
  retentionDays: number;
  /** Subscribed to the Alerts topic when set. */
  alertEmail: string | undefined;
  /** Athena's workgroup cancels a search that would read more than this many GB (ATHENA_SCAN_LIMIT_GB). */
  athenaScanLimitGb: number;
  /** Search results are deleted from their bucket after this many days (ATHENA_RESULTS_DAYS). */
  athenaResultsDays: number;
}

/**
 * Validated here so that a typo fails the deploy, not the first cold start. Secrets are never read
 * here: they are `sst.Secret`s (infra/functions.ts).
 */
export function loadSettings(stage: string, env: NodeJS.ProcessEnv = process.env): Settings {
  const int = (name: string, fallback: number, { min, max }: { min: number; max: number }): number => {
    const raw = env[name]?.trim();
    const value = raw ? Number(raw) : fallback;
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new Error(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
    }
    return value;
  };
  if (!env.IM_SDKAPPID?.trim()) {
    throw new Error(
      "Set IM_SDKAPPID (your Tencent IM SDKAppID) in the shell or .env.<stage> before deploying",
    );
  }
  const sdkAppId = int("IM_SDKAPPID", 0, { min: 1, max: 2 ** 53 - 1 });
  const region = env.IM_REGION?.trim() || DEFAULTS.region;
  if (!isRegion(region)) throw new Error(`IM_REGION must be one of ${Object.keys(REGIONS).join(", ")}`);
  // Whole calls/s, at least one for each archive instance.
  const minRate = Math.max(ARCHIVE.maxConcurrency, Math.ceil(LIMITS.ratePerSecond.min));
  const appRateLimit = int("IM_RATE_LIMIT", DEFAULTS.ratePerSecond, {
    ...LIMITS.ratePerSecond,
    min: minRate,
  });
  const lookbackHours = int("LOOKBACK_HOURS", DEFAULTS.lookbackHours, LIMITS.lookbackHours);
  const settleHours = int("SETTLE_HOURS", DEFAULTS.settleHours, {
    ...LIMITS.settleHours,
    max: Math.min(LIMITS.settleHours.max, lookbackHours - 1),
  });
  const production = ["production", "prod"].includes(stage);
  const retentionMode = (env.RETENTION_MODE?.trim() || DEFAULTS.retentionMode).toLowerCase();
  if (retentionMode !== "governance" && retentionMode !== "compliance") {
    throw new Error(`RETENTION_MODE must be governance or compliance (got "${env.RETENTION_MODE}")`);
  }
  if (
    retentionMode === "compliance" &&
    env.RETENTION_COMPLIANCE_CONFIRM?.trim() !== COMPLIANCE_CONFIRMATION
  ) {
    throw new Error(
      `RETENTION_MODE=compliance locks every object for RETENTION_DAYS and nobody, not even the account's root, can lift it or delete the bucket before then; set RETENTION_COMPLIANCE_CONFIRM=${COMPLIANCE_CONFIRMATION} to deploy it`,
    );
  }
  // Other stages keep test data a day by default, so that they can be removed soon after.
  const retentionDays = int(
    "RETENTION_DAYS",
    production ? DEFAULTS.objectRetentionDays : 1,
    LIMITS.objectRetentionDays,
  );
  return {
    production,
    sdkAppId,
    admin: env.IM_ADMIN?.trim() || DEFAULTS.admin,
    region,
    baseUrl: env.IM_BASE_URL?.trim() ?? "",
    perInstanceRate: Math.floor(appRateLimit / ARCHIVE.maxConcurrency),
    lookbackHours,
    settleHours,
    maxAttemptsPerFile: DEFAULTS.maxAttemptsPerFile,
    mediaRetentionDays: int(
      "IM_MEDIA_RETENTION_DAYS",
      DEFAULTS.mediaRetentionDays,
      LIMITS.mediaRetentionDays,
    ),
    mediaConcurrency: int("IM_MEDIA_CONCURRENCY", DEFAULTS.mediaConcurrency, LIMITS.mediaConcurrency),
    downloadHosts: env.IM_DOWNLOAD_HOSTS?.trim() ?? "",
    cosUrlHosts: env.COS_URL_HOSTS?.trim() ?? "",
    rawColdAfterDays: int("RAW_COLD_AFTER_DAYS", 30, { min: 1, max: 3650 }),
    noncurrentVersionDays: int("NONCURRENT_VERSION_DAYS", 90, { min: 1, max: 3650 }),
    retentionMode,
    retentionDays,
    alertEmail: env.ALERT_EMAIL?.trim() || undefined,
    athenaScanLimitGb: int("ATHENA_SCAN_LIMIT_GB", DEFAULTS.athenaScanLimitGb, LIMITS.athenaScanLimitGb),
    athenaResultsDays: int("ATHENA_RESULTS_DAYS", DEFAULTS.athenaResultsDays, LIMITS.athenaResultsDays),
  };
}

function isRegion(name: string): name is Region {
  return Object.hasOwn(REGIONS, name);
}
