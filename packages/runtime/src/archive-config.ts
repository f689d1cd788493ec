import type { ArchiveConfig } from "@imvault/im-core";
import type { ArchiveSettings, ImConfig } from "./settings.ts";

/** im-core's archive configuration from the settings: one mapping, for the Lambda and the CLI alike. */
export function archiveConfigFrom(
  im: Pick<ImConfig, "downloadHosts">,
  archive: ArchiveSettings,
): ArchiveConfig {
  return {
    settleHours: archive.settleHours,
    maxAttemptsPerFile: archive.maxAttemptsPerFile,
    idleTimeoutMs: archive.idleTimeoutMs,
    retryBaseDelayMs: archive.retryBaseDelayMs,
    downloadHosts: im.downloadHosts,
  };
}
