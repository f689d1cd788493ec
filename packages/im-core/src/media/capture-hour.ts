import { readManifest } from "../archive/manifest.ts";
import type { ChatType } from "../im/types.ts";
import { DEFAULT_COS_URL_HOSTS, DEFAULTS, MEDIA_CAPTURE_LIMITS } from "../schemas/limits.ts";
import type { ArchiveStore } from "../store/port.ts";
import type { MsgTime } from "../time/msgtime.ts";
import type { AllowList } from "../util/allow-list.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import { METRIC, type Metrics, noMetrics } from "../util/metrics.ts";
import { captureObject, lookUpStored, type ObjectOutcome, type StoredObject } from "./capture-object.ts";
import { hourMediaUrls } from "./collect.ts";
import { checkMediaKey, isCosMediaUrl } from "./layout.ts";
import {
  type MediaIndexEntry,
  type MediaItem,
  type MediaManifest,
  readMediaManifest,
  writeMediaIndexEntry,
  writeMediaManifest,
} from "./manifest.ts";
import { runPool } from "./pool.ts";
import { type CosSigLookup, PreSigner } from "./signer.ts";

export interface MediaConfig {
  /** Hosts a PreSigURL may be downloaded from (IM_DOWNLOAD_HOSTS, plus IM_BASE_URL's origin). */
  downloadHosts: AllowList;
  /** Hosts of the RawURLs get_cos_sig can sign (COS_URL_HOSTS); any other RawURL is refused. */
  cosHosts: AllowList;
  /** Downloads (and store look-ups) at the same time. */
  concurrency: number;
  /** A download with no byte for this long is stalled. */
  idleTimeoutMs: number;
  /** RawURLs per get_cos_sig request. */
  signBatchSize: number;
  /** Download attempts per object (first included) before the hour fails. */
  maxAttempts: number;
  /** Base of the backoff between attempts (full jitter, doubling). */
  retryBaseDelayMs: number;
  /** A PreSigURL this close to its expiry is asked for again before a download starts. */
  presignMarginMs: number;
  /** A download whose Content-Length is at most this is read whole into memory, not streamed. */
  wholeUpTo: number;
}

export const DEFAULT_MEDIA_CONFIG = {
  cosHosts: DEFAULT_COS_URL_HOSTS,
  concurrency: DEFAULTS.mediaConcurrency,
  idleTimeoutMs: 30_000,
  signBatchSize: 100,
  maxAttempts: 5,
  retryBaseDelayMs: 1_000,
  presignMarginMs: 60_000,
  wholeUpTo: MEDIA_CAPTURE_LIMITS.wholeBodyBytes,
} as const satisfies Partial<MediaConfig>;

export interface MediaDeps {
  store: ArchiveStore;
  /**
   * im/calls.ts getCosSig bound to the ImClient that also serves get_history, so that both share its
   * rate limit: `(items, signal) => getCosSig(client, items, signal ? { signal } : {})`.
   */
  getCosSig: CosSigLookup;
  /** Downloads with this fetch instead of node:http(s) (tests inject fakes). */
  fetch?: typeof fetch;
  clock: Clock;
  logger: Logger;
  metrics?: Metrics;
  random?: () => number;
  config: MediaConfig;
  /**
   * Told of each object this run downloads and stores, as it is stored (its bytes downloaded): what a
   * run that then fails or is stopped did store, which its result (never returned) would have said.
   */
  onFetched?: (bytes: number) => void;
}

export interface MediaJob {
  chatType: ChatType;
  msgTime: MsgTime;
}

export type MediaOutcome = "captured" | "skipped" | "no-manifest";

export interface MediaResult {
  /** captured: the media manifest was written now; skipped: one existed; no-manifest: the hour is not archived yet. */
  outcome: MediaOutcome;
  /** Manifest items by status (one item per distinct RawURL). */
  counts: Record<MediaItem["status"], number>;
  /** Objects downloaded and stored by this run. */
  fetched: number;
  /** Objects found already stored (by an earlier hour, run or worker), not stored again. */
  reused: number;
  /** Bytes downloaded by this run. */
  bytes: number;
  /** get_cos_sig requests made. */
  signCalls: number;
}

const emptyResult = (outcome: MediaOutcome): MediaResult => ({
  outcome,
  counts: { captured: 0, missing: 0, refused: 0 },
  fetched: 0,
  reused: 0,
  bytes: 0,
  signCalls: 0,
});

/**
 * Captures the rich media of one archived hour of one chat type: every distinct media URL of its
 * messages (read from the stored raw files) is signed with get_cos_sig and downloaded into the store
 * at `media/{host}/{path}`, then the hour's media manifest is written last, as the commit point.
 *
 * Safe to run again at any time: an hour with a media manifest is skipped; an object already stored
 * with its index entry (by an earlier hour, or a run that died) is not fetched again; a run that
 * fails writes no manifest and throws (MediaCaptureError and the like, retryable when trying again
 * can help), never a manifest that claims less than was asked of it.
 */
export async function captureHourMedia(
  job: MediaJob,
  deps: MediaDeps,
  signal?: AbortSignal,
): Promise<MediaResult> {
  const { chatType, msgTime } = job;
  const { store, config, logger } = deps;
  const metrics = deps.metrics ?? noMetrics;
  if ((await readMediaManifest(store, chatType, msgTime)) !== undefined) {
    metrics.count(METRIC.mediaHoursSkipped);
    return emptyResult("skipped");
  }
  const archived = await readManifest(store, chatType, msgTime);
  if (archived === undefined) return emptyResult("no-manifest");

  const rawUrls = await hourMediaUrls(store, archived, signal);

  // Each RawURL: refused at once, or one of the hour's distinct objects (several RawURLs may name one
  // object: an image's sizes differ only in their query string).
  const refused = new Map<string, string>();
  const keyOf = new Map<string, string>();
  const objects: { key: string; rawUrl: string }[] = [];
  const seenKeys = new Set<string>();
  for (const rawUrl of rawUrls) {
    const check = checkMediaKey(rawUrl);
    if ("problem" in check) refused.set(rawUrl, `unsafe URL: ${check.problem}`);
    else if (!isCosMediaUrl(rawUrl, config.cosHosts)) refused.set(rawUrl, "not on the COS media hosts");
    else {
      keyOf.set(rawUrl, check.key);
      if (!seenKeys.has(check.key)) {
        seenKeys.add(check.key);
        objects.push({ key: check.key, rawUrl });
      }
    }
  }

  const stored: StoredObject[] = await runPool(
    objects.length,
    config.concurrency,
    (i) => lookUpStored(store, objects[i]!.key, logger),
    signal,
  );
  const outcomes = new Map<string, ObjectOutcome>();
  const toCapture: { key: string; rawUrl: string; stored: StoredObject }[] = [];
  objects.forEach((object, i) => {
    const found = stored[i]!;
    if (found.kind === "indexed") {
      const { entry } = found;
      outcomes.set(object.key, {
        status: "captured",
        tencentStatus: entry.tencentStatus,
        size: entry.size,
        sha256: entry.sha256,
        contentType: entry.contentType,
        how: "reused",
        bytes: 0,
      });
    } else {
      toCapture.push({ ...object, stored: found });
    }
  });

  const signer = new PreSigner(
    toCapture.map((t) => t.rawUrl),
    config.signBatchSize,
    deps.getCosSig,
  );
  const ctx = {
    store,
    signer,
    fetch: deps.fetch,
    clock: deps.clock,
    logger,
    random: deps.random ?? Math.random,
    config,
    onRetry: () => metrics.count(METRIC.mediaRetries),
  };
  const captured = await runPool(
    toCapture.length,
    config.concurrency,
    async (i, poolSignal) => {
      const outcome = await captureObject({ ...toCapture[i]!, i }, ctx, poolSignal);
      if (outcome.status === "captured" && outcome.how === "fetched") deps.onFetched?.(outcome.bytes);
      return outcome;
    },
    signal,
  );
  for (const [i, t] of toCapture.entries()) outcomes.set(t.key, captured[i]!);
  await commitObjects(store, captured, config.concurrency, signal);

  const items = rawUrls.map((rawUrl) => itemOf(rawUrl, refused.get(rawUrl), keyOf.get(rawUrl), outcomes));
  const manifest: MediaManifest = {
    version: 1,
    chatType,
    msgTime,
    items,
    capturedAt: new Date(deps.clock.now()).toISOString(),
  };
  const result = emptyResult("captured");
  result.signCalls = signer.calls;
  for (const item of items) result.counts[item.status]++;
  for (const outcome of outcomes.values()) {
    if (outcome.status !== "captured") continue;
    if (outcome.how === "fetched") result.fetched++;
    else result.reused++;
    result.bytes += outcome.bytes;
  }
  if (!(await writeMediaManifest(store, manifest))) {
    metrics.count(METRIC.mediaHoursSkipped);
    return { ...result, outcome: "skipped" };
  }
  metrics.count(METRIC.mediaHoursCaptured);
  metrics.count(METRIC.mediaCaptured, result.fetched);
  metrics.count(METRIC.mediaReused, result.reused);
  metrics.count(METRIC.mediaMissing, result.counts.missing);
  metrics.count(METRIC.mediaRefused, result.counts.refused);
  metrics.count(METRIC.mediaBytes, result.bytes, "Bytes");
  logger.info("hour media captured", {
    chatType,
    msgTime,
    items: items.length,
    ...result.counts,
    fetched: result.fetched,
    reused: result.reused,
    bytes: result.bytes,
    signCalls: result.signCalls,
  });
  return result;
}

/** Index entries written at the same time, at least (each is a small file and its fsync). */
const INDEX_WRITE_CONCURRENCY = 16;

/**
 * Makes the hour's objects durable before its manifest may name them: records the index entry of
 * every object that has none yet, then has the store make those and the objects (put with
 * `durability: "deferred"`) durable, in one go instead of object by object (bench/README.md "Media
 * capture"). A run that dies before this leaves objects that are whole but without an entry: the next
 * run hashes them again from the store instead of fetching them (captureObject's adopt).
 */
async function commitObjects(
  store: ArchiveStore,
  outcomes: ObjectOutcome[],
  concurrency: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  const entries: MediaIndexEntry[] = [];
  for (const o of outcomes) if (o.status === "captured" && o.entry !== undefined) entries.push(o.entry);
  await runPool(
    entries.length,
    Math.max(concurrency, INDEX_WRITE_CONCURRENCY),
    (i) => writeMediaIndexEntry(store, entries[i]!, { durability: "deferred" }),
    signal,
  );
  await store.syncDeferred();
}

/** The manifest item of one RawURL, from what happened to it (or to the object it names). */
function itemOf(
  rawUrl: string,
  refusedReason: string | undefined,
  key: string | undefined,
  outcomes: Map<string, ObjectOutcome>,
): MediaItem {
  if (refusedReason !== undefined || key === undefined) {
    return { rawUrl, status: "refused", reason: refusedReason ?? "no storage key" };
  }
  const outcome = outcomes.get(key)!;
  if (outcome.status === "missing") return { rawUrl, status: "missing", tencentStatus: 2 };
  if (outcome.status === "refused") {
    return {
      rawUrl,
      status: "refused",
      reason: outcome.reason,
      ...(outcome.tencentStatus === undefined ? {} : { tencentStatus: outcome.tencentStatus }),
    };
  }
  return {
    rawUrl,
    status: "captured",
    ...(outcome.tencentStatus === undefined ? {} : { tencentStatus: outcome.tencentStatus }),
    key,
    size: outcome.size,
    sha256: outcome.sha256,
    ...(outcome.contentType === undefined ? {} : { contentType: outcome.contentType }),
  };
}
