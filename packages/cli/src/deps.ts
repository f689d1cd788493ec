import type { ArchiveConfig } from "@imvault/im-core/archive/archive-hour.ts";
import { DEFAULT_ARCHIVE_CONFIG } from "@imvault/im-core/archive/archive-hour.ts";
import type { ImClient } from "@imvault/im-core/im/client.ts";
import type { ArchiveStore } from "@imvault/im-core/store/port.ts";
import type { Logger } from "@imvault/im-core/util/log.ts";
import {
  type ImConfig,
  loadApiConfig,
  loadArchiveConfig,
  loadImConfig,
  loadStoreConfig,
} from "../../../functions/config.ts";
import { makeImClient, makeStore } from "../../../functions/deps.ts";

/**
 * The CLI reads the same settings as the handlers (functions/config.ts: the environment on one
 * machine, SST's links under `sst shell`) and calls im-core directly, with a readable logger.
 */

export function cliStore(): ArchiveStore {
  return makeStore(loadStoreConfig());
}

export function cliImClient(logger: Logger): { client: ImClient; config: ImConfig } {
  const config = loadImConfig();
  return { client: makeImClient(config, logger), config };
}

export function cliArchiveConfig(im: ImConfig): ArchiveConfig & { lookbackHours: number } {
  const archive = loadArchiveConfig();
  return {
    ...DEFAULT_ARCHIVE_CONFIG,
    settleHours: archive.settleHours,
    maxAttemptsPerFile: archive.maxAttemptsPerFile,
    downloadHosts: im.downloadHosts,
    lookbackHours: archive.lookbackHours,
  };
}

export function cliLookbackHours(): number {
  return loadArchiveConfig().lookbackHours;
}

/** RawURL allow-list and batch limit for `imvault sig`: the API's own rules. */
export function cliCosSigLimits(): { allowHosts: string[]; maxItems: number } {
  // loadApiConfig also wants API_KEYS, which the terminal does not need: give it a placeholder.
  const saved = process.env.API_KEYS;
  try {
    if (saved === undefined || saved.trim() === "") process.env.API_KEYS = "cli:unused-placeholder";
    const api = loadApiConfig();
    return { allowHosts: api.cosUrlHosts, maxItems: api.maxItems };
  } finally {
    if (saved === undefined) delete process.env.API_KEYS;
    else process.env.API_KEYS = saved;
  }
}
