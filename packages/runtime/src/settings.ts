/**
 * The handlers' and the CLI's settings: the only module that knows where settings live. In AWS they
 * come from SST's linked resources (`Resource.ImApp`, `Resource.ImSecretKey`, …); on one machine from
 * the environment (SPEC "Environment", README "Configuration"). im-core never sees either source:
 * each loader returns a plain object with only what its caller needs.
 *
 * One valibot schema per group (im, archive, media, store, queue, api) over the raw values; defaults and
 * ranges are im-core's DEFAULTS and LIMITS. Every loader validates all of its settings and throws one
 * ConfigError naming each missing or invalid one, so a cold start fails at once with the whole list.
 * Messages never carry a secret value: secrets are named, never quoted; API key entries are referred
 * to by position and name, never by token.
 *
 * Nothing is read at import time: tests (and `imvault dev`) may set the environment before calling.
 */
import { resolve } from "node:path";
import {
  type ApiKey,
  type ArchiveConfig,
  cosUrlHostsFor,
  DEFAULT_DOWNLOAD_HOSTS,
  DEFAULTS,
  LIMITS,
  type Region,
} from "@imvault/im-core";
import * as v from "valibot";
import {
  apiKeys,
  bucketName,
  hostList,
  httpUrl,
  integer,
  number,
  region,
  required,
  rule,
  secretOfAtLeast,
  text,
} from "./settings/fields.ts";
import { parseGroup, readGroup, type Where } from "./settings/source.ts";

export { inAws } from "./settings/source.ts";

export interface ImConfig {
  sdkAppId: number;
  secretKey: string;
  /** The App admin the REST calls are made as. */
  identifier: string;
  region: Region;
  /** Overrides the region's domains (e.g. a simulator); no trailing slash. */
  baseUrl?: string;
  /** Tencent calls per second this process may make (in AWS: one Lambda instance's share). */
  ratePerSecond: number;
  /** Allow-list for history downloads (entries as im-core's util/allow-list.ts reads them). */
  downloadHosts: string[];
}

/**
 * The archive settings: im-core's ArchiveConfig but the download hosts (an IM setting; see
 * archiveConfigFrom), plus the scheduler's window and Tencent's retention.
 */
export type ArchiveSettings = Omit<ArchiveConfig, "downloadHosts"> & {
  /** How many ended hours the scheduler plans (and `status` shows by default). */
  lookbackHours: number;
  /** How many days Tencent keeps history files: an hour older than that can no longer be archived. */
  retentionDays: number;
};

/** Media capture's own settings (the rest it shares with archiving and lookups: see mediaConfigFrom). */
export interface MediaSettings {
  /** How many days Tencent keeps message media: the scheduler plans media jobs this far back. */
  retentionDays: number;
  /** Downloads of one hour's media at the same time. */
  concurrency: number;
}

/** S3 Object Lock on what imvault writes: each object locked until its hour's end plus `days`. */
export interface RetentionConfig {
  mode: "governance" | "compliance";
  days: number;
}

export type StoreConfig =
  | { kind: "s3"; bucket: string; endpoint?: string; retention?: RetentionConfig }
  | {
      kind: "local";
      dataDir: string;
      /** Origin of the local server that serves signed download URLs (imvault dev sets it). */
      publicUrl?: string;
      /** HMAC key of those URLs. */
      urlSigningKey?: string;
    };

/** How digests are signed where there is no local key: the KMS key of the deployment. */
export interface EvidenceConfig {
  /** DIGEST_KMS_KEY_ID (in AWS the link DigestKey.keyId): an asymmetric ECC_NIST_P256 KMS key. */
  kmsKeyId?: string;
}

export interface QueueConfig {
  queueUrl: string;
  endpoint?: string;
}

/** The RawURL rules of cos-sig lookups, shared by the API and `imvault sig`. */
export interface LookupConfig {
  /** Allow-list for RawURLs given to POST /v1/cos-sig (COS_URL_HOSTS). */
  cosUrlHosts: readonly string[];
  /** Most RawURLs in one lookup. */
  maxItems: number;
}

/** Searches of the message table through Athena (the API in AWS): where its queries run. */
export interface AthenaConfig {
  /** The Athena workgroup: its results location and bytes-scanned limit apply to every search. */
  workgroup: string;
  /** The Glue database of the `messages` table. */
  database: string;
}

/** The HTTP API's settings (packages/functions/src/http/app.ts). */
export interface ApiConfig extends LookupConfig {
  apiKeys: readonly ApiKey[];
  maxBodyBytes: number;
  /** `/v1/status` without `hours` shows this many hours (LOOKBACK_HOURS). */
  lookbackHours: number;
  /** Validity of the archive download URLs; default DEFAULTS.downloadTtlSeconds. */
  downloadTtlSeconds?: number;
}

// ---- where each setting lives, and its schema ------------------------------------------------------

/** A setting: its environment variable, its schema, and (when AWS has it) its link `Resource.Property`. */
const at = <S extends v.GenericSchema>(env: string, schema: S, link?: Where["link"]) => ({
  where: { env, link } satisfies Where,
  schema,
});
type Entry = ReturnType<typeof at>;

/** A group: where each of its settings lives, and the object schema of their raw values. */
function group<const E extends Record<string, Entry>>(entries: E) {
  const where = {} as Record<keyof E & string, Where>;
  const shape = {} as { [K in keyof E]: E[K]["schema"] };
  for (const key of Object.keys(entries) as (keyof E & string)[]) {
    where[key] = entries[key]!.where;
    shape[key] = entries[key]!.schema;
  }
  return { where, object: v.object(shape) };
}

const optionalInt = (range: keyof typeof LIMITS & keyof typeof DEFAULTS) =>
  v.optional(integer(LIMITS[range] as { min: number; max: number }), DEFAULTS[range] as number);

const lookbackHours = at("LOOKBACK_HOURS", optionalInt("lookbackHours"), "ImApp.lookbackHours");
const baseUrl = at("IM_BASE_URL", v.optional(httpUrl()), "ImApp.baseUrl");
const downloadHosts = at("IM_DOWNLOAD_HOSTS", v.optional(hostList()), "ImApp.downloadHosts");

/** The configured (or default) download hosts, plus the origin of the base URL. */
function downloadHostsIn(values: { baseUrl?: string | undefined; downloadHosts?: string[] | undefined }) {
  const hosts = values.downloadHosts ?? DEFAULT_DOWNLOAD_HOSTS;
  return [...new Set(values.baseUrl === undefined ? hosts : [...hosts, new URL(values.baseUrl).origin])];
}

const IM = group({
  sdkAppId: at("IM_SDKAPPID", required(integer(LIMITS.sdkAppId), "your app's SDKAppID"), "ImApp.sdkAppId"),
  secretKey: at(
    "IM_SECRET_KEY",
    required(text({ secret: true }), "the app's secret key from the IM console"),
    "ImSecretKey.value",
  ),
  identifier: at("IM_ADMIN", v.optional(text(), DEFAULTS.admin), "ImApp.admin"),
  region: at("IM_REGION", v.optional(region(), DEFAULTS.region), "ImApp.region"),
  baseUrl,
  ratePerSecond: at(
    "IM_RATE_LIMIT",
    v.optional(number(LIMITS.ratePerSecond), DEFAULTS.ratePerSecond),
    "ImApp.rateLimit",
  ),
  downloadHosts,
});

const ARCHIVE = group({
  lookbackHours,
  settleHours: at("SETTLE_HOURS", optionalInt("settleHours"), "ImApp.settleHours"),
  maxAttemptsPerFile: at(
    "MAX_ATTEMPTS_PER_FILE",
    optionalInt("maxAttemptsPerFile"),
    "ImApp.maxAttemptsPerFile",
  ),
  idleTimeoutMs: at(
    "DOWNLOAD_IDLE_TIMEOUT_SECONDS",
    v.pipe(
      v.optional(number(LIMITS.downloadIdleTimeoutSeconds), DEFAULTS.downloadIdleTimeoutSeconds),
      v.transform((seconds) => Math.round(seconds * 1000)),
    ),
    "ImApp.downloadIdleTimeoutSeconds",
  ),
  retryBaseDelayMs: at("RETRY_BASE_DELAY_MS", optionalInt("retryBaseDelayMs"), "ImApp.retryBaseDelayMs"),
  retentionDays: at("IM_RETENTION_DAYS", optionalInt("retentionDays"), "ImApp.retentionDays"),
});

const MEDIA = group({
  retentionDays: at("IM_MEDIA_RETENTION_DAYS", optionalInt("mediaRetentionDays"), "ImApp.mediaRetentionDays"),
  concurrency: at("IM_MEDIA_CONCURRENCY", optionalInt("mediaConcurrency"), "ImApp.mediaConcurrency"),
});

const ARCHIVE_RULES = v.pipe(
  ARCHIVE.object,
  rule("settleHours", ["settleHours", "lookbackHours"], (s) =>
    s.settleHours < s.lookbackHours
      ? undefined
      : `must be smaller than the lookback (${s.lookbackHours} hours)`,
  ),
);

/** Where the store's settings live: S3 in AWS or with ARCHIVE_BUCKET, else the local directory. */
const STORE: Record<"bucket" | "endpoint" | "dataDir" | "publicUrl" | "urlSigningKey", Where> = {
  bucket: { link: "ArchiveBucket.name", env: "ARCHIVE_BUCKET" },
  endpoint: { env: "AWS_ENDPOINT_URL_S3" },
  dataDir: { env: "DATA_DIR" },
  publicUrl: { env: "IMVAULT_PUBLIC_URL" },
  urlSigningKey: { env: "IMVAULT_URL_SIGNING_KEY" },
};

const S3_STORE = v.object({
  bucket: required(bucketName(), "the S3 bucket of the archive"),
  endpoint: v.optional(httpUrl()),
});

/** Object Lock settings of the bucket (the deployment links them; locally they may be set by hand). */
const RETENTION = group({
  mode: at(
    "RETENTION_MODE",
    v.optional(
      v.pipe(
        text(),
        v.transform((s) => s.toLowerCase()),
        v.check((s) => s === "governance" || s === "compliance", "must be governance or compliance"),
        v.transform((s) => s as RetentionConfig["mode"]),
      ),
    ),
    "ArchiveBucket.retentionMode",
  ),
  days: at("RETENTION_DAYS", v.optional(integer(LIMITS.objectRetentionDays)), "ArchiveBucket.retentionDays"),
});

const EVIDENCE_SETTINGS = group({
  kmsKeyId: at("DIGEST_KMS_KEY_ID", v.optional(text()), "DigestKey.keyId"),
});

const LOCAL_STORE = v.pipe(
  v.object({
    dataDir: v.optional(text(), DEFAULTS.dataDir),
    publicUrl: v.optional(httpUrl()),
    urlSigningKey: v.optional(secretOfAtLeast(LIMITS.minUrlSigningKeyChars)),
  }),
  rule("publicUrl", ["publicUrl", "urlSigningKey"], (s) =>
    (s.publicUrl === undefined) === (s.urlSigningKey === undefined)
      ? undefined
      : "must be set together with IMVAULT_URL_SIGNING_KEY",
  ),
);

const QUEUE = group({
  queueUrl: at("JOBS_QUEUE_URL", required(httpUrl(), "the SQS queue URL of the hour jobs"), "Jobs.url"),
  // No link: in AWS the SDK finds SQS itself.
  endpoint: at("AWS_ENDPOINT_URL_SQS", v.optional(httpUrl())),
});

const LOOKUP_ENTRIES = {
  baseUrl,
  downloadHosts,
  cosUrlHosts: at("COS_URL_HOSTS", v.optional(hostList()), "ImApp.cosUrlHosts"),
  // No link: the default is the contract of the deployed API.
  maxItems: at("API_MAX_ITEMS", optionalInt("maxItems")),
};
const LOOKUP = group(LOOKUP_ENTRIES);

const API = group({
  apiKeys: at("API_KEYS", required(apiKeys(), "comma-separated name:token pairs"), "ApiKeys.value"),
  ...LOOKUP_ENTRIES,
  // No link either.
  maxBodyBytes: at("API_MAX_BODY_BYTES", optionalInt("maxBodyBytes")),
  lookbackHours,
});

/** In AWS the deployment links both; on one machine both are set, or neither (then: DuckDB). */
const ATHENA = group({
  workgroup: at(
    "ATHENA_WORKGROUP",
    required(text(), "the Athena workgroup of the searches (with ATHENA_DATABASE)"),
    "MessageTable.workgroup",
  ),
  database: at(
    "ATHENA_DATABASE",
    required(text(), "the Glue database of the messages table (with ATHENA_WORKGROUP)"),
    "MessageTable.database",
  ),
});

/** COS_URL_HOSTS, or else the COS media hosts and the download hosts in effect (SPEC "Environment"). */
function lookupOf(values: {
  baseUrl?: string | undefined;
  downloadHosts?: string[] | undefined;
  cosUrlHosts?: string[] | undefined;
  maxItems: number;
}): LookupConfig {
  return {
    cosUrlHosts: values.cosUrlHosts ?? cosUrlHostsFor(downloadHostsIn(values)),
    maxItems: values.maxItems,
  };
}

// ---- loaders ---------------------------------------------------------------------------------------

export function loadImConfig(): ImConfig {
  const im = parseGroup(readGroup(IM.where), IM.object);
  const { baseUrl: url, downloadHosts: _, ...rest } = im;
  return { ...rest, ...(url === undefined ? {} : { baseUrl: url }), downloadHosts: downloadHostsIn(im) };
}

export function loadArchiveConfig(): ArchiveSettings {
  return parseGroup(readGroup(ARCHIVE.where), ARCHIVE_RULES);
}

export function loadMediaSettings(): MediaSettings {
  return parseGroup(readGroup(MEDIA.where), MEDIA.object);
}

export function loadStoreConfig(): StoreConfig {
  const raw = readGroup(STORE);
  if (raw.aws || raw.input.bucket !== undefined) {
    const { bucket, endpoint } = parseGroup(raw, S3_STORE);
    const { mode, days } = parseGroup(readGroup(RETENTION.where), RETENTION.object);
    // A mode alone locks with the default period; days alone, in the default mode.
    const retention =
      mode === undefined && days === undefined
        ? undefined
        : { mode: mode ?? DEFAULTS.retentionMode, days: days ?? DEFAULTS.objectRetentionDays };
    return {
      kind: "s3",
      bucket,
      ...(endpoint === undefined ? {} : { endpoint }),
      ...(retention === undefined ? {} : { retention }),
    };
  }
  const { dataDir, publicUrl, urlSigningKey } = parseGroup(raw, LOCAL_STORE);
  return {
    kind: "local",
    dataDir: resolve(dataDir),
    ...(publicUrl === undefined || urlSigningKey === undefined ? {} : { publicUrl, urlSigningKey }),
  };
}

/** The digest signing key; only the scheduler (in AWS) and the CLI read it. */
export function loadEvidenceConfig(): EvidenceConfig {
  const { kmsKeyId } = parseGroup(readGroup(EVIDENCE_SETTINGS.where), EVIDENCE_SETTINGS.object);
  return kmsKeyId === undefined ? {} : { kmsKeyId };
}

export function loadQueueConfig(): QueueConfig {
  const { queueUrl, endpoint } = parseGroup(readGroup(QUEUE.where), QUEUE.object);
  return { queueUrl, ...(endpoint === undefined ? {} : { endpoint }) };
}

export function loadLookupConfig(): LookupConfig {
  return lookupOf(parseGroup(readGroup(LOOKUP.where), LOOKUP.object));
}

/** Athena's settings; undefined on one machine where neither is set (searches run on DuckDB there). */
export function loadAthenaConfig(): AthenaConfig | undefined {
  const raw = readGroup(ATHENA.where);
  if (!raw.aws && raw.input.workgroup === undefined && raw.input.database === undefined) return undefined;
  return parseGroup(raw, ATHENA.object);
}

export function loadApiConfig(): ApiConfig {
  const api = parseGroup(readGroup(API.where), API.object);
  return {
    apiKeys: api.apiKeys,
    ...lookupOf(api),
    maxBodyBytes: api.maxBodyBytes,
    lookbackHours: api.lookbackHours,
  };
}
