import { DEFAULT_MEDIA_CONFIG, type MediaConfig } from "@imvault/im-core";
import type { ArchiveSettings, ImConfig, LookupConfig, MediaSettings } from "./settings.ts";

/**
 * im-core's media configuration from the settings, for the Lambda and the CLI alike. A media
 * download is fetched like a history file: the same download hosts (PreSigURLs are on COS,
 * `*.myqcloud.com`), idle timeout, attempts and backoff; only RawURLs on the lookup API's hosts
 * (COS_URL_HOSTS) are signed.
 */
export function mediaConfigFrom(
  im: Pick<ImConfig, "downloadHosts">,
  archive: Pick<ArchiveSettings, "idleTimeoutMs" | "maxAttemptsPerFile" | "retryBaseDelayMs">,
  lookup: Pick<LookupConfig, "cosUrlHosts">,
  media: Pick<MediaSettings, "concurrency">,
): MediaConfig {
  return {
    ...DEFAULT_MEDIA_CONFIG,
    downloadHosts: im.downloadHosts,
    cosHosts: lookup.cosUrlHosts,
    concurrency: media.concurrency,
    idleTimeoutMs: archive.idleTimeoutMs,
    maxAttempts: archive.maxAttemptsPerFile,
    retryBaseDelayMs: archive.retryBaseDelayMs,
  };
}
