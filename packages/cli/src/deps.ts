import {
  type ArchiveConfig,
  type ArchiveStore,
  cleanupLocalTemp,
  type ImClient,
  type Logger,
} from "@imvault/im-core";
import {
  archiveConfigFrom,
  type ImConfig,
  loadArchiveConfig,
  loadImConfig,
  loadLookupConfig,
  loadStoreConfig,
  makeImClient,
  makeLocalStore,
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
export async function cliStore(): Promise<ArchiveStore> {
  const config = loadStoreConfig();
  if (config.kind === "s3") return (await import("@imvault/runtime/s3")).makeS3Store(config);
  await cleanupLocalTemp(config.dataDir);
  return makeLocalStore(config);
}

export function cliImClient(logger: Logger): { client: ImClient; config: ImConfig } {
  const config = loadImConfig();
  return { client: makeImClient(config, logger), config };
}

export function cliArchiveConfig(im: ImConfig): ArchiveConfig & { lookbackHours: number } {
  const archive = loadArchiveConfig();
  return { ...archiveConfigFrom(im, archive), lookbackHours: archive.lookbackHours };
}

export function cliLookbackHours(): number {
  return loadArchiveConfig().lookbackHours;
}

/** RawURL allow-list and batch limit for `imvault sig`: the API's own rules. */
export function cliCosSigLimits(): { allowHosts: readonly string[]; maxItems: number } {
  const lookup = loadLookupConfig();
  return { allowHosts: lookup.cosUrlHosts, maxItems: lookup.maxItems };
}
