import {
  captureHourMedia,
  getCosSig,
  type ImClient,
  type MediaCounts,
  type MediaDeps,
  type MediaJob,
  type MediaManifest,
  type MediaResult,
  readMediaManifest,
  StoreUnavailableError,
} from "@imvault/im-core";
import { describeError } from "../exit-codes.ts";

/** Media capture as the CLI runs it: for `imvault archive` after each hour's commit, and `imvault media`. */

/** get_cos_sig on the command's one ImClient: the same rate limit (shared through DATA_DIR) as get_history. */
export function cliCosSig(client: ImClient): MediaDeps["getCosSig"] {
  return (items, signal) => getCosSig(client, items, signal === undefined ? {} : { signal });
}

export function countsOf(manifest: MediaManifest | undefined): MediaCounts {
  const counts = { captured: 0, missing: 0, refused: 0 };
  for (const item of manifest?.items ?? []) counts[item.status]++;
  return counts;
}

export type HourMediaRun =
  | { outcome: "captured" | "skipped"; counts: MediaCounts; result: MediaResult }
  | { outcome: "not archived"; result: MediaResult }
  | { outcome: "failed"; error: string }
  | { outcome: "interrupted" };

/**
 * Captures one hour's media and says how it ended: `skipped` (an earlier run captured them) with the
 * counts of the media manifest already there. A store that cannot be written is thrown, to stop the
 * whole command at once; any other failure is this hour's (its media manifest is not written, so the
 * next run tries it again).
 */
export async function runHourMedia(
  job: MediaJob,
  deps: MediaDeps,
  signal: AbortSignal,
  userSignal: AbortSignal,
  debug: boolean,
): Promise<HourMediaRun> {
  try {
    const result = await captureHourMedia(job, deps, signal);
    if (result.outcome === "no-manifest") return { outcome: "not archived", result };
    if (result.outcome === "captured") return { outcome: "captured", counts: result.counts, result };
    const counts = countsOf(await readMediaManifest(deps.store, job.chatType, job.msgTime));
    return { outcome: "skipped", counts, result };
  } catch (error) {
    if (error instanceof StoreUnavailableError) throw error;
    if (userSignal.aborted) return { outcome: "interrupted" };
    return { outcome: "failed", error: describeError(error, debug) };
  }
}
