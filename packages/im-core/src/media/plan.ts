import { manifestKey } from "../archive/layout.ts";
import { keysInDays, manifestKeysIn } from "../archive/plan.ts";
import { IntegrityError } from "../errors.ts";
import { CHAT_TYPES, type ChatType } from "../im/types.ts";
import type { HourJob } from "../queue/job.ts";
import type { ArchiveStore } from "../store/port.ts";
import { addHours, hourEnd, hourOf, hourRange, type MsgTime } from "../time/msgtime.ts";
import { mediaManifestDayPrefix, mediaManifestKey } from "./layout.ts";
import { type MediaManifest, readMediaManifest } from "./manifest.ts";

/**
 * Which hours' media to capture, from the keys alone: an hour of a chat type needs its media captured
 * once its history manifest is committed (archived, empty or expired: every such hour gets a media
 * manifest, an empty one when it holds no media) and as long as it has no media manifest. One listing
 * per chat type and day of each prefix; no manifest is read.
 */

export interface MediaPlanConfig {
  chatTypes?: readonly ChatType[];
  /** An hour still uncaptured this long after it ended is overdue (half of IM_MEDIA_RETENTION_DAYS). */
  overdueAfterHours: number;
  /** History manifest keys known to be corrupt: their hours are archived again first, not captured. */
  corrupt?: ReadonlySet<string>;
}

export interface MediaPlan {
  /** Hours with a committed history manifest and no media manifest, oldest first. */
  jobs: HourJob[];
  /** Those of `jobs` that ended more than overdueAfterHours ago: their media are at risk. */
  overdue: HourJob[];
  /** Hours of the window whose media are captured already. */
  captured: number;
  /** Hours of the window without a history manifest: nothing to capture yet. */
  notArchived: number;
  from: MsgTime;
  to: MsgTime;
}

/** The scheduler's media window at `now`: IM_MEDIA_RETENTION_DAYS of ended hours, up to the last one. */
export function mediaWindow(nowMs: number, retentionDays: number): { from: MsgTime; to: MsgTime } {
  const to = addHours(hourOf(nowMs), -1);
  return { from: addHours(to, -(retentionDays * 24 - 1)), to };
}

export async function planMedia(
  store: ArchiveStore,
  window: { from: MsgTime; to: MsgTime },
  nowMs: number,
  config: MediaPlanConfig,
): Promise<MediaPlan> {
  const chatTypes = config.chatTypes ?? CHAT_TYPES;
  const hours = hourRange(window.from, window.to);
  const [history, media] = await Promise.all([
    manifestKeysIn(store, chatTypes, hours),
    mediaManifestKeysIn(store, chatTypes, hours),
  ]);
  const plan: MediaPlan = { jobs: [], overdue: [], captured: 0, notArchived: 0, ...window };
  for (const msgTime of hours) {
    for (const chatType of chatTypes) {
      const historyKey = manifestKey(chatType, msgTime);
      if (!history.has(historyKey) || config.corrupt?.has(historyKey)) {
        plan.notArchived++;
        continue;
      }
      if (media.has(mediaManifestKey(chatType, msgTime))) {
        plan.captured++;
        continue;
      }
      const job: HourJob = { v: 1, chatType, msgTime };
      plan.jobs.push(job);
      if (nowMs >= hourEnd(msgTime) + config.overdueAfterHours * 3_600_000) plan.overdue.push(job);
    }
  }
  return plan;
}

/** Media manifest keys present for these hours, read with one listing per chat type and day. */
export function mediaManifestKeysIn(
  store: ArchiveStore,
  chatTypes: readonly ChatType[],
  hours: readonly MsgTime[],
): Promise<Set<string>> {
  return keysInDays(store, chatTypes, hours, mediaManifestDayPrefix);
}

/** Media manifests read at once: small GETs whose latency is what adds up. */
const READ_CONCURRENCY = 8;

/**
 * Every media manifest present for these hours and chat types, by key: the manifest, or the
 * IntegrityError of one that is not JSON or not a media manifest.
 */
export async function mediaManifestsIn(
  store: ArchiveStore,
  chatTypes: readonly ChatType[],
  hours: readonly MsgTime[],
): Promise<Map<string, MediaManifest | IntegrityError>> {
  const present = await mediaManifestKeysIn(store, chatTypes, hours);
  const wanted = hours.flatMap((msgTime) =>
    chatTypes
      .map((chatType) => ({ chatType, msgTime, key: mediaManifestKey(chatType, msgTime) }))
      .filter((h) => present.has(h.key)),
  );
  const found = new Map<string, MediaManifest | IntegrityError>();
  let next = 0;
  const worker = async () => {
    while (next < wanted.length) {
      const { chatType, msgTime, key } = wanted[next++]!;
      try {
        const manifest = await readMediaManifest(store, chatType, msgTime);
        if (manifest !== undefined) found.set(key, manifest);
      } catch (err) {
        if (!(err instanceof IntegrityError)) throw err;
        found.set(key, err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, wanted.length) }, worker));
  return found;
}
