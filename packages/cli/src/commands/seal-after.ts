import { type ArchiveStore, type Logger, localSigner, sealDigest, systemClock } from "@imvault/im-core";
import { loadStoreConfig } from "@imvault/runtime";

/**
 * The digest a command seals after it committed something on a DATA_DIR (`imvault archive`, a hold):
 * one line saying which, or why none. In AWS only the scheduler signs, so on a bucket the next hourly
 * digest seals it. A failure here does not fail the command: what it committed stands, and the next
 * digest seals it.
 */
export async function sealAfterCommit(store: ArchiveStore, logger: Logger): Promise<string> {
  const config = loadStoreConfig();
  if (config.kind === "s3") {
    return "digest: none sealed here (in AWS only the scheduler signs digests; its next hourly run seals this)";
  }
  try {
    const signer = await localSigner(config.dataDir);
    const sealed = await sealDigest({ store, signer, clock: systemClock, logger });
    if (sealed.outcome !== "sealed") return "digest: nothing new to seal (another digest sealed it already)";
    const retries = sealed.retries > 0 ? `, after ${sealed.retries} other sealer(s) went first` : "";
    return `digest: sealed ${sealed.key} (${sealed.objects} object(s), ${sealed.files} raw file(s)${retries})`;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return `warning: no digest sealed: ${message} (the next run seals what this one committed)`;
  }
}
