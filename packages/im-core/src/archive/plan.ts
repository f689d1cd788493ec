import { CorruptManifestError } from "../errors.ts";
import { CHAT_TYPES, type ChatType } from "../im/types.ts";
import type { HourJob } from "../queue/job.ts";
import type { ArchiveStore } from "../store/port.ts";
import { addHours, hourEnd, hourOf, hourParts, hourRange, type MsgTime } from "../time/msgtime.ts";
import { manifestDayPrefix, manifestKey } from "./layout.ts";
import { type Manifest, readManifest } from "./manifest.ts";

export interface PlanConfig {
  lookbackHours: number;
  settleHours: number;
  chatTypes?: readonly ChatType[];
}

export interface Plan {
  /** Hours without a manifest, or with a corrupt one, to enqueue now. */
  jobs: HourJob[];
  /** Hours in the window that already have a manifest. */
  skipped: number;
  /** Keys of the window's corrupt manifests (not JSON or not a manifest); their hours are in `jobs`. */
  corrupt: string[];
  /** Jobs whose hour ended more than settleHours ago and still has no manifest: at risk of loss. */
  missingPastSettle: HourJob[];
  from: MsgTime;
  to: MsgTime;
}

/** The scheduler's window at `now`: LOOKBACK_HOURS ago up to the last hour that has ended. */
export function defaultWindow(nowMs: number, lookbackHours: number): { from: MsgTime; to: MsgTime } {
  const to = addHours(hourOf(nowMs), -1);
  return { from: addHours(to, -(lookbackHours - 1)), to };
}

/** Every hour of the window and chat types that has no manifest yet (or a corrupt one), oldest first. */
export async function plan(
  store: ArchiveStore,
  window: { from: MsgTime; to: MsgTime },
  nowMs: number,
  config: PlanConfig,
): Promise<Plan> {
  const chatTypes = config.chatTypes ?? CHAT_TYPES;
  const hours = hourRange(window.from, window.to);
  const manifests = await manifestsIn(store, chatTypes, hours);
  const jobs: HourJob[] = [];
  const missingPastSettle: HourJob[] = [];
  const corrupt: string[] = [];
  let skipped = 0;
  for (const msgTime of hours) {
    for (const chatType of chatTypes) {
      const manifest = manifests.get(manifestKey(chatType, msgTime));
      if (manifest instanceof CorruptManifestError) {
        corrupt.push(manifest.key);
        jobs.push({ v: 1, chatType, msgTime });
        continue;
      }
      if (manifest !== undefined) {
        skipped++;
        continue;
      }
      const job: HourJob = { v: 1, chatType, msgTime };
      jobs.push(job);
      if (nowMs >= hourEnd(msgTime) + config.settleHours * 3_600_000) missingPastSettle.push(job);
    }
  }
  return { jobs, skipped, corrupt, missingPastSettle, from: window.from, to: window.to };
}

/** Manifests read at once by manifestsIn: S3 GETs are small, their latency is what adds up. */
const READ_CONCURRENCY = 8;

/**
 * Every manifest present for these hours and chat types, by key: the manifest, or the
 * CorruptManifestError of one that is not JSON or not a manifest. One listing per chat type and day,
 * then each present manifest read (READ_CONCURRENCY at a time).
 */
export async function manifestsIn(
  store: ArchiveStore,
  chatTypes: readonly ChatType[],
  hours: readonly MsgTime[],
): Promise<Map<string, Manifest | CorruptManifestError>> {
  const present = await manifestKeysIn(store, chatTypes, hours);
  const wanted = hours.flatMap((msgTime) =>
    chatTypes
      .map((chatType) => ({ chatType, msgTime, key: manifestKey(chatType, msgTime) }))
      .filter((h) => present.has(h.key)),
  );
  const found = new Map<string, Manifest | CorruptManifestError>();
  let next = 0;
  const worker = async () => {
    while (next < wanted.length) {
      const { chatType, msgTime, key } = wanted[next++]!;
      try {
        const manifest = await readManifest(store, chatType, msgTime);
        if (manifest !== undefined) found.set(key, manifest);
      } catch (err) {
        if (!(err instanceof CorruptManifestError)) throw err;
        found.set(key, err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, wanted.length) }, worker));
  return found;
}

/** Manifest keys present for these hours, read with one listing per chat type and day. */
export function manifestKeysIn(
  store: ArchiveStore,
  chatTypes: readonly ChatType[],
  hours: readonly MsgTime[],
): Promise<Set<string>> {
  return keysInDays(store, chatTypes, hours, manifestDayPrefix);
}

/** Keys under `dayPrefix(chatType, dt)` for each chat type and each day of these hours. */
export async function keysInDays(
  store: ArchiveStore,
  chatTypes: readonly ChatType[],
  hours: readonly MsgTime[],
  dayPrefix: (chatType: ChatType, dt: string) => string,
): Promise<Set<string>> {
  const days = [...new Set(hours.map((h) => hourParts(h).dt))];
  const keys = new Set<string>();
  for (const chatType of chatTypes) {
    for (const dt of days) {
      for await (const obj of store.list(dayPrefix(chatType, dt))) keys.add(obj.key);
    }
  }
  return keys;
}
