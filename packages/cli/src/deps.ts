import { stat } from "node:fs/promises";
import { join } from "node:path";
import {
  type ArchiveConfig,
  type ArchiveStore,
  cleanupLocalTemp,
  FileRateLimit,
  type ImClient,
  LOCAL_STATE_DIR,
  type Logger,
  type MediaConfig,
  type RateLimit,
  StoreUnavailableError,
} from "@imvault/im-core";
import {
  archiveConfigFrom,
  type ImConfig,
  loadArchiveConfig,
  loadImConfig,
  loadLookupConfig,
  loadMediaSettings,
  loadStoreConfig,
  makeImClient,
  makeLocalStore,
  mediaConfigFrom,
} from "@imvault/runtime";

/**
 * The CLI reads the same settings as the handlers (@imvault/runtime: the environment on one
 * machine, SST's links under `sst shell`) and calls im-core directly, with a readable logger.
 */

/**
 * The configured store; the S3 SDK is loaded only for a bucket. A local one first removes what a
 * killed earlier run left in its temp directory (files of writers that are no longer running), so
 * no partial file outlives a crash.
 */
export async function cliStore(options: { forWriting?: boolean } = {}): Promise<ArchiveStore> {
  const config = loadStoreConfig();
  if (config.kind === "s3") return (await import("@imvault/runtime/s3")).makeS3Store(config);
  const store = makeLocalStore(config);
  // A DATA_DIR that cannot be written stops a writer here, with one line naming the path and the
  // cause, before anything else (the shared rate limit, the first download) trips over it.
  if (options.forWriting) await store.checkWritable();
  else await refuseUnreadableDir(config.dataDir);
  await cleanupLocalTemp(config.dataDir);
  return store;
}

/**
 * A DATA_DIR that is a file (or lies under one) stops a reader here: read as an archive it would look
 * empty, every hour `missing`. One that does not exist is an archive with nothing in it yet.
 */
async function refuseUnreadableDir(dataDir: string): Promise<void> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(dataDir)).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "EIO";
    if (code === "ENOENT") return;
    throw new StoreUnavailableError(`the local store cannot read DATA_DIR ${dataDir} (${code})`, {
      code,
      path: dataDir,
      cause: error,
    });
  }
  if (!isDirectory) {
    throw new StoreUnavailableError(
      `the local store cannot read DATA_DIR ${dataDir}: it is not a directory`,
      {
        code: "ENOTDIR",
        path: dataDir,
      },
    );
  }
}

/** Where the configured store is, for messages: `DATA_DIR /abs/path` or `bucket NAME`. */
export function cliStoreLabel(): { label: string; localDir?: string } {
  const config = loadStoreConfig();
  if (config.kind === "s3") return { label: `bucket ${config.bucket}` };
  return { label: `DATA_DIR ${config.dataDir}`, localDir: config.dataDir };
}

/**
 * `shareRateLimit` (archive): imvault processes on one DATA_DIR (several `imvault archive` at once)
 * share the app's calls per second through files under DATA_DIR/.imvault, instead of each sending its
 * own IM_RATE_LIMIT. Without it (`sig`, a few calls, which should leave no ./data behind), on a bucket,
 * or when the store settings are wrong (the store reports that itself), the client keeps its own.
 */
export function cliImClient(
  logger: Logger,
  options: { shareRateLimit?: boolean } = {},
): { client: ImClient; config: ImConfig } {
  const config = loadImConfig();
  const rateLimit = options.shareRateLimit ? sharedRateLimit(config) : undefined;
  return { client: makeImClient(config, logger, rateLimit), config };
}

function sharedRateLimit(im: ImConfig): RateLimit | undefined {
  let store: ReturnType<typeof loadStoreConfig>;
  try {
    store = loadStoreConfig();
  } catch {
    return undefined;
  }
  if (store.kind !== "local") return undefined;
  const dir = join(store.dataDir, LOCAL_STATE_DIR, "rate-limit", String(im.sdkAppId));
  return new FileRateLimit({ dir, ratePerSecond: im.ratePerSecond });
}

export function cliArchiveConfig(
  im: ImConfig,
): ArchiveConfig & { lookbackHours: number; retentionDays: number } {
  const archive = loadArchiveConfig();
  return {
    ...archiveConfigFrom(im, archive),
    lookbackHours: archive.lookbackHours,
    retentionDays: archive.retentionDays,
  };
}

/** Media capture's configuration, and IM_MEDIA_RETENTION_DAYS (`imvault media`'s default window). */
export function cliMediaConfig(im: ImConfig): MediaConfig & { retentionDays: number } {
  const media = loadMediaSettings();
  return {
    ...mediaConfigFrom(im, loadArchiveConfig(), loadLookupConfig(), media),
    retentionDays: media.retentionDays,
  };
}

export function cliLookbackHours(): number {
  return loadArchiveConfig().lookbackHours;
}

/** SETTLE_HOURS: how long after an hour ends a missing one is not at risk yet (`status`'s `pending`). */
export function cliSettleHours(): number {
  return loadArchiveConfig().settleHours;
}

/** RawURL allow-list and batch limit for `imvault sig`: the API's own rules. */
export function cliCosSigLimits(): { allowHosts: readonly string[]; maxItems: number } {
  const lookup = loadLookupConfig();
  return { allowHosts: lookup.cosUrlHosts, maxItems: lookup.maxItems };
}
