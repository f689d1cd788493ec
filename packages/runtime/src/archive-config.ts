import { type ArchiveConfig, DEFAULT_ARCHIVE_CONFIG } from "@imvault/im-core";
import type { ArchiveConfig as ArchiveSettings, ImConfig } from "./settings.ts";

/** im-core's archive configuration from the settings: one mapping, for the Lambda and the CLI alike. */
export function archiveConfigFrom(im: ImConfig, archive: ArchiveSettings): ArchiveConfig {
  return {
    ...DEFAULT_ARCHIVE_CONFIG,
    settleHours: archive.settleHours,
    maxAttemptsPerFile: archive.maxAttemptsPerFile,
    idleTimeoutMs: archive.downloadIdleTimeoutMs,
    retryBaseDelayMs: archive.retryBaseDelayMs,
    downloadHosts: im.downloadHosts,
  };
}
