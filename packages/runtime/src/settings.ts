/**
 * The handlers' configuration: the only module that knows where settings live. In AWS they come from
 * SST's linked resources (`Resource.ImApp`, `Resource.ImSecretKey`, … — see sst.config.ts); on one
 * machine from the environment (SPEC "Environment"). im-core never sees either source: each loader
 * returns a plain object with only what its caller needs.
 *
 * Every loader validates all of its settings and throws one ConfigError naming each missing or invalid
 * one, so a cold start fails at once with the whole list. Messages never carry a secret value: secrets
 * are named, never quoted; API key entries are referred to by position and name, never by token.
 *
 * Nothing is read at import time: tests (and `imvault dev`) may set the environment before calling.
 */
import { resolve } from "node:path";
import { ConfigError, REGIONS, type Region } from "@imvault/im-core";
// The smallest entry point of `sst`: the Resource proxy alone (node:crypto/fs), not the SDK helpers.
import { Resource } from "sst/resource";

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

export interface ArchiveConfig {
  lookbackHours: number;
  settleHours: number;
  maxAttemptsPerFile: number;
  /** A history download with no byte for this long is stalled (aborted and retried). */
  downloadIdleTimeoutMs: number;
  /** Base of the backoff between attempts of one file (full jitter, doubling). */
  retryBaseDelayMs: number;
  /** How many days Tencent keeps an hour's history files (IM_RETENTION_DAYS). */
  retentionDays: number;
}

export type StoreConfig =
  | { kind: "s3"; bucket: string; endpoint?: string }
  | {
      kind: "local";
      dataDir: string;
      /** Origin of the local server that serves signed download URLs (imvault dev sets it). */
      publicUrl?: string;
      /** HMAC key of those URLs. */
      urlSigningKey?: string;
    };

export interface QueueConfig {
  queueUrl: string;
  endpoint?: string;
}

export interface ApiKey {
  name: string;
  token: string;
}

export interface ApiConfig {
  apiKeys: ApiKey[];
  /** Allow-list for RawURLs given to POST /v1/cos-sig. */
  cosUrlHosts: string[];
  maxItems: number;
  maxBodyBytes: number;
}

export const DEFAULT_DOWNLOAD_HOSTS: readonly string[] = [
  "*.tim.qq.com",
  "*.im.qcloud.com",
  "*.my-imcloud.com",
  "*.myqcloud.com",
];
export const DEFAULT_COS_URL_HOSTS: readonly string[] = ["*.myqcloud.com"];
export const DEFAULTS = {
  admin: "administrator",
  region: "cn" as Region,
  ratePerSecond: 10,
  lookbackHours: 72,
  settleHours: 6,
  maxAttemptsPerFile: 5,
  downloadIdleTimeoutSeconds: 30,
  retryBaseDelayMs: 1000,
  retentionDays: 7,
  dataDir: "./data",
  maxItems: 100,
  /** 100 items of ~300-byte COS URLs is ~30 KB; twice that leaves room and still bounds parsing. */
  maxBodyBytes: 64 * 1024,
} as const;

/** True when SST's links are present (a deployed function, or `sst dev`/`sst shell`). */
export function inAws(): boolean {
  try {
    return "App" in Resource;
  } catch {
    // SST parses SST_RESOURCE_* JSON and decrypts SST_KEY_FILE here; its error text may quote a value.
    throw new ConfigError("SST_RESOURCE_* / SST_KEY_FILE", "could not be read as SST's linked resources");
  }
}

export function loadImConfig(): ImConfig {
  const src = source();
  const issues = new Issues();
  const app = src.object("ImApp", issues);
  const secret = src.object("ImSecretKey", issues);
  const field = (key: string, env: string) => src.field(app, key, env);

  const sdkAppId = int(field("sdkAppId", "IM_SDKAPPID"), issues, { min: 1, required: "your app's SDKAppID" });
  const secretKey = text(src.field(secret, "value", "IM_SECRET_KEY"), issues, {
    secret: true,
    required: "the app's secret key from the IM console",
  });
  const identifier = text(field("admin", "IM_ADMIN"), issues, { fallback: DEFAULTS.admin });
  const region = regionOf(field("region", "IM_REGION"), issues);
  const baseUrl = url(field("baseUrl", "IM_BASE_URL"), issues);
  const ratePerSecond = num(field("rateLimit", "IM_RATE_LIMIT"), issues, {
    fallback: DEFAULTS.ratePerSecond,
    min: 0.01,
    max: 1000,
  });
  const downloadHosts = downloadHostsOf(src, app, baseUrl, issues);
  issues.throwIfAny();
  return {
    sdkAppId,
    secretKey,
    identifier,
    region,
    ...(baseUrl === undefined ? {} : { baseUrl }),
    ratePerSecond,
    downloadHosts,
  };
}

export function loadArchiveConfig(): ArchiveConfig {
  const src = source();
  const issues = new Issues();
  const app = src.object("ImApp", issues);
  const lookbackHours = int(src.field(app, "lookbackHours", "LOOKBACK_HOURS"), issues, {
    fallback: DEFAULTS.lookbackHours,
    min: 1,
    max: 24 * 30,
  });
  const settle = src.field(app, "settleHours", "SETTLE_HOURS");
  const settleHours = int(settle, issues, { fallback: DEFAULTS.settleHours, min: 0, max: 24 * 30 });
  if (settleHours >= lookbackHours && !settle.unavailable) {
    issues.add(settle.name, `must be smaller than the lookback (${lookbackHours} hours)`);
  }
  const maxAttemptsPerFile = int(src.field(app, "maxAttemptsPerFile", "MAX_ATTEMPTS_PER_FILE"), issues, {
    fallback: DEFAULTS.maxAttemptsPerFile,
    min: 1,
    max: 100,
  });
  const idleSeconds = num(
    src.field(app, "downloadIdleTimeoutSeconds", "DOWNLOAD_IDLE_TIMEOUT_SECONDS"),
    issues,
    { fallback: DEFAULTS.downloadIdleTimeoutSeconds, min: 0.05, max: 900 },
  );
  const retryBaseDelayMs = int(src.field(app, "retryBaseDelayMs", "RETRY_BASE_DELAY_MS"), issues, {
    fallback: DEFAULTS.retryBaseDelayMs,
    min: 0,
    max: 600_000,
  });
  const retentionDays = int(src.field(app, "retentionDays", "IM_RETENTION_DAYS"), issues, {
    fallback: DEFAULTS.retentionDays,
    min: 1,
    max: 3650,
  });
  issues.throwIfAny();
  return {
    lookbackHours,
    settleHours,
    maxAttemptsPerFile,
    downloadIdleTimeoutMs: Math.round(idleSeconds * 1000),
    retryBaseDelayMs,
    retentionDays,
  };
}

export function loadStoreConfig(): StoreConfig {
  const src = source();
  const issues = new Issues();
  if (src.aws) {
    const bucket = bucketName(src.field(src.object("ArchiveBucket", issues), "name", ""), issues);
    issues.throwIfAny();
    return { kind: "s3", bucket };
  }
  const bucketField = src.field(undefined, "", "ARCHIVE_BUCKET");
  if (present(bucketField.value)) {
    const bucket = bucketName(bucketField, issues);
    const endpoint = url(src.field(undefined, "", "AWS_ENDPOINT_URL_S3"), issues);
    issues.throwIfAny();
    return { kind: "s3", bucket, ...(endpoint === undefined ? {} : { endpoint }) };
  }
  const dataDir = text(src.field(undefined, "", "DATA_DIR"), issues, { fallback: DEFAULTS.dataDir });
  const publicUrl = url(src.field(undefined, "", "IMVAULT_PUBLIC_URL"), issues);
  const urlSigningKey =
    text(src.field(undefined, "", "IMVAULT_URL_SIGNING_KEY"), issues, { secret: true, fallback: "" }) ||
    undefined;
  if ((publicUrl === undefined) !== (urlSigningKey === undefined)) {
    issues.add("IMVAULT_PUBLIC_URL / IMVAULT_URL_SIGNING_KEY", "must be set together");
  } else if (urlSigningKey !== undefined && urlSigningKey.length < 16) {
    issues.add("IMVAULT_URL_SIGNING_KEY", "must be at least 16 characters");
  }
  issues.throwIfAny();
  return {
    kind: "local",
    dataDir: resolve(dataDir),
    ...(publicUrl === undefined || urlSigningKey === undefined ? {} : { publicUrl, urlSigningKey }),
  };
}

export function loadQueueConfig(): QueueConfig {
  const src = source();
  const issues = new Issues();
  const queueUrl = url(src.field(src.object("Jobs", issues), "url", "JOBS_QUEUE_URL"), issues, {
    required: "the SQS queue URL of the hour jobs",
  });
  const endpoint = src.aws ? undefined : url(src.field(undefined, "", "AWS_ENDPOINT_URL_SQS"), issues);
  issues.throwIfAny();
  return { queueUrl: queueUrl ?? "", ...(endpoint === undefined ? {} : { endpoint }) };
}

/** The RawURL rules of cos-sig lookups, shared by the API and `imvault sig`. */
export function loadLookupConfig(): Pick<ApiConfig, "cosUrlHosts" | "maxItems"> {
  const src = source();
  const issues = new Issues();
  const lookup = lookupRules(src, issues);
  issues.throwIfAny();
  return lookup;
}

export function loadApiConfig(): ApiConfig {
  const src = source();
  const issues = new Issues();
  const keys = src.object("ApiKeys", issues);
  const apiKeys = apiKeysOf(src.field(keys, "value", "API_KEYS"), issues);
  const { cosUrlHosts, maxItems } = lookupRules(src, issues);
  // The body limit has no AWS setting: the default is the contract of the deployed API.
  const maxBodyBytes = int(src.field(undefined, "", src.aws ? "" : "API_MAX_BODY_BYTES"), issues, {
    fallback: DEFAULTS.maxBodyBytes,
    min: 1024,
    max: 6 * 1024 * 1024,
  });
  issues.throwIfAny();
  return { apiKeys, cosUrlHosts, maxItems, maxBodyBytes };
}

function lookupRules(src: Source, issues: Issues): Pick<ApiConfig, "cosUrlHosts" | "maxItems"> {
  const app = src.object("ImApp", issues);
  const baseUrl = url(src.field(app, "baseUrl", "IM_BASE_URL"), issues);
  const downloadHosts = downloadHostsOf(src, app, baseUrl, issues);
  const cosUrlHosts = hostList(src.field(app, "cosUrlHosts", "COS_URL_HOSTS"), issues, [
    ...DEFAULT_COS_URL_HOSTS,
    ...downloadHosts,
  ]);
  // The item limit has no AWS setting either.
  const maxItems = int(src.field(undefined, "", src.aws ? "" : "API_MAX_ITEMS"), issues, {
    fallback: DEFAULTS.maxItems,
    min: 1,
    max: 1000,
  });
  return { cosUrlHosts, maxItems };
}

// ---- sources ------------------------------------------------------------------------------------

/** One setting: its name as the operator knows it (env var or Resource path) and its raw value. */
interface Field {
  name: string;
  value: unknown;
  /** The resource holding it is not linked: already reported, so validators stay quiet. */
  unavailable?: boolean;
}

interface Source {
  aws: boolean;
  /** AWS: the linked resource `name` (reported when not linked). Local: undefined. */
  object(name: string, issues: Issues): LinkedObject | undefined;
  /** AWS: `object.key`; local: the environment variable `env` (empty means unset). */
  field(object: LinkedObject | undefined, key: string, env: string): Field;
}

interface LinkedObject {
  name: string;
  value: Record<string, unknown> | undefined;
}

function source(): Source {
  if (inAws()) {
    const links = Resource as unknown as Record<string, unknown>;
    return {
      aws: true,
      object(name, issues) {
        if (!(name in links)) {
          issues.add(`Resource.${name}`, "is not linked to this function (link it in sst.config.ts)");
          return { name, value: undefined };
        }
        const value = links[name];
        if (typeof value !== "object" || value === null) {
          issues.add(`Resource.${name}`, "is not an object");
          return { name, value: undefined };
        }
        return { name, value: value as Record<string, unknown> };
      },
      field(object, key) {
        if (object === undefined) return { name: key, value: undefined };
        return {
          name: `Resource.${object.name}.${key}`,
          value: object.value?.[key],
          unavailable: object.value === undefined,
        };
      },
    };
  }
  return {
    aws: false,
    object: () => undefined,
    field: (_object, _key, env) => ({ name: env, value: env === "" ? undefined : process.env[env] }),
  };
}

// ---- validation ---------------------------------------------------------------------------------

class Issues {
  private readonly list: { setting: string; problem: string }[] = [];

  add(setting: string, problem: string): void {
    this.list.push({ setting, problem });
  }

  throwIfAny(): void {
    const [first, ...rest] = this.list;
    if (first === undefined) return;
    if (rest.length === 0) throw new ConfigError(first.setting, first.problem);
    throw new ConfigError(
      this.list.map((i) => i.setting).join(", "),
      `are missing or invalid: ${this.list.map((i) => `${i.setting} ${i.problem}`).join("; ")}`,
    );
  }
}

/** Unset: undefined, null or blank text (an empty env var or an empty Linkable property). */
function present(value: unknown): boolean {
  return value !== undefined && value !== null && !(typeof value === "string" && value.trim() === "");
}

/** A value quoted for a message: only ever for settings that are not secrets, and short. */
function quote(value: unknown): string {
  const s = String(value);
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}

function text(
  field: Field,
  issues: Issues,
  options: { fallback?: string; required?: string; secret?: boolean } = {},
): string {
  if (field.unavailable) return "";
  if (!present(field.value)) {
    if (options.fallback !== undefined) return options.fallback;
    issues.add(field.name, `is missing (${options.required ?? "required"})`);
    return "";
  }
  if (typeof field.value !== "string") {
    issues.add(field.name, options.secret ? "must be text" : `must be text, not ${typeof field.value}`);
    return "";
  }
  return field.value.trim();
}

function num(
  field: Field,
  issues: Issues,
  options: { fallback?: number; required?: string; min: number; max?: number; integer?: boolean },
): number {
  if (field.unavailable) return options.fallback ?? 0;
  if (!present(field.value)) {
    if (options.fallback !== undefined) return options.fallback;
    issues.add(field.name, `is missing (${options.required ?? "required"})`);
    return 0;
  }
  const raw = field.value;
  const value = typeof raw === "number" ? raw : typeof raw === "string" ? Number(raw.trim()) : Number.NaN;
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  const kind = options.integer ? "an integer" : "a number";
  if (
    !Number.isFinite(value) ||
    (options.integer && !Number.isSafeInteger(value)) ||
    value < options.min ||
    value > max
  ) {
    const range = options.max === undefined ? `>= ${options.min}` : `from ${options.min} to ${options.max}`;
    issues.add(field.name, `must be ${kind} ${range} (got ${quote(raw)})`);
    return options.fallback ?? 0;
  }
  return value;
}

function int(
  field: Field,
  issues: Issues,
  options: { fallback?: number; required?: string; min: number; max?: number },
): number {
  return num(field, issues, { ...options, integer: true });
}

function regionOf(field: Field, issues: Issues): Region {
  const value = text(field, issues, { fallback: DEFAULTS.region });
  if (field.unavailable) return DEFAULTS.region;
  if (!Object.hasOwn(REGIONS, value)) {
    issues.add(field.name, `must be one of ${Object.keys(REGIONS).join(", ")} (got ${quote(value)})`);
    return DEFAULTS.region;
  }
  return value as Region;
}

/** An http(s) URL without query or fragment; returned without a trailing slash. Never quoted. */
function url(field: Field, issues: Issues, options: { required?: string } = {}): string | undefined {
  if (field.unavailable) return undefined;
  if (!present(field.value)) {
    if (options.required !== undefined) issues.add(field.name, `is missing (${options.required})`);
    return undefined;
  }
  const value = text(field, issues);
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    issues.add(field.name, "is not a URL");
    return undefined;
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    issues.add(field.name, "must be an http or https URL");
    return undefined;
  }
  if (parsed.username !== "" || parsed.password !== "" || parsed.hash !== "") {
    issues.add(field.name, "must not carry credentials or a fragment");
    return undefined;
  }
  return value.replace(/\/+$/, "");
}

// S3's rules for bucket names (the common subset; dots allowed for path-style local endpoints).
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function bucketName(field: Field, issues: Issues): string {
  const value = text(field, issues, { required: "the S3 bucket of the archive" });
  if (value !== "" && !BUCKET.test(value))
    issues.add(field.name, `is not a valid S3 bucket name (got ${quote(value)})`);
  return value;
}

const HOST_PATTERN = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

/**
 * A comma-separated list (or, from a Linkable, an array) of allow-list entries: `*.example.com`,
 * `example.com`, or an origin `http(s)://host[:port]`. Unset means `fallback`.
 */
function hostList(field: Field, issues: Issues, fallback: readonly string[]): string[] {
  if (field.unavailable || !present(field.value)) return dedupe(fallback);
  const raw = field.value;
  const entries = Array.isArray(raw) ? raw : typeof raw === "string" ? raw.split(",") : undefined;
  if (entries === undefined) {
    issues.add(field.name, "must be a comma-separated list of hosts");
    return [];
  }
  const out: string[] = [];
  entries.forEach((entry, i) => {
    const value = typeof entry === "string" ? entry.trim().toLowerCase() : "";
    if (value.includes("://")) {
      const origin = originOf(value);
      if (origin === undefined)
        issues.add(field.name, `entry ${i + 1} is not an http(s) origin (got ${quote(value)})`);
      else out.push(origin);
    } else if (HOST_PATTERN.test(value)) {
      out.push(value);
    } else {
      issues.add(field.name, `entry ${i + 1} is not a host or *.domain pattern (got ${quote(value)})`);
    }
  });
  return dedupe(out);
}

function originOf(value: string): string | undefined {
  try {
    const u = new URL(value);
    if (u.protocol !== "https:" && u.protocol !== "http:") return undefined;
    if (u.username || u.password || u.search || u.hash || (u.pathname !== "/" && u.pathname !== ""))
      return undefined;
    return u.origin;
  } catch {
    return undefined;
  }
}

/** The download allow-list: the configured (or default) hosts, plus the origin of the base URL. */
function downloadHostsOf(
  src: Source,
  app: LinkedObject | undefined,
  baseUrl: string | undefined,
  issues: Issues,
) {
  const hosts = hostList(
    src.field(app, "downloadHosts", "IM_DOWNLOAD_HOSTS"),
    issues,
    DEFAULT_DOWNLOAD_HOSTS,
  );
  return baseUrl === undefined ? hosts : dedupe([...hosts, new URL(baseUrl).origin]);
}

function dedupe(list: readonly string[]): string[] {
  return [...new Set(list)];
}

const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** `name:token,name:token`. Entries are reported by position (and name once it is known), never token. */
function apiKeysOf(field: Field, issues: Issues): ApiKey[] {
  const value = text(field, issues, { secret: true, required: "comma-separated name:token pairs" });
  if (value === "") return [];
  const keys: ApiKey[] = [];
  const byName = new Map<string, number>();
  const byToken = new Map<string, string>();
  for (const [i, raw] of value.split(",").entries()) {
    const problem = keyProblem(i + 1, raw.trim(), byName, byToken);
    if (problem !== undefined) {
      issues.add(field.name, problem);
      continue;
    }
    const entry = raw.trim();
    const colon = entry.indexOf(":");
    const name = entry.slice(0, colon).trim();
    const token = entry.slice(colon + 1).trim();
    byName.set(name, i + 1);
    byToken.set(token, name);
    keys.push({ name, token });
  }
  return keys;
}

function keyProblem(
  n: number,
  entry: string,
  byName: Map<string, number>,
  byToken: Map<string, string>,
): string | undefined {
  if (entry === "") return `entry ${n} is empty`;
  const colon = entry.indexOf(":");
  if (colon < 0) return `entry ${n} is not name:token`;
  const name = entry.slice(0, colon).trim();
  const token = entry.slice(colon + 1).trim();
  if (!KEY_NAME.test(name)) return `entry ${n} has an invalid name (letters, digits, . _ @ -; at most 64)`;
  if (token === "") return `entry ${n} (${name}) has an empty token`;
  if (/\s/.test(token)) return `entry ${n} (${name}) has whitespace in its token`;
  const sameName = byName.get(name);
  if (sameName !== undefined) return `entry ${n} repeats the name ${name} of entry ${sameName}`;
  const sameToken = byToken.get(token);
  if (sameToken !== undefined) return `entry ${n} (${name}) reuses the token of ${sameToken}`;
  return undefined;
}
