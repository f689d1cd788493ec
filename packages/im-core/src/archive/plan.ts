import { CHAT_TYPES, type ChatType } from "../im/types.ts";
import type { HourJob } from "../queue/job.ts";
import type { ArchiveStore } from "../store/port.ts";
import { addHours, hourEnd, hourOf, hourParts, hourRange, type MsgTime } from "../time/msgtime.ts";
import { manifestDayPrefix, manifestKey } from "./layout.ts";

export interface PlanConfig {
  lookbackHours: number;
  settleHours: number;
  chatTypes?: readonly ChatType[];
}

export interface Plan {
  /** Hours without a manifest, to enqueue now. */
  jobs: HourJob[];
  /** Hours in the window that already have a manifest. */
  skipped: number;
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

/** Every hour of the window and chat types that has no manifest yet, oldest first. */
export async function plan(
  store: ArchiveStore,
  window: { from: MsgTime; to: MsgTime },
  nowMs: number,
  config: PlanConfig,
): Promise<Plan> {
  const chatTypes = config.chatTypes ?? CHAT_TYPES;
  const hours = hourRange(window.from, window.to);
  const done = await manifestKeysIn(store, chatTypes, hours);
  const jobs: HourJob[] = [];
  const missingPastSettle: HourJob[] = [];
  let skipped = 0;
  for (const msgTime of hours) {
    for (const chatType of chatTypes) {
      if (done.has(manifestKey(chatType, msgTime))) {
        skipped++;
        continue;
      }
      const job: HourJob = { v: 1, chatType, msgTime };
      jobs.push(job);
      if (nowMs >= hourEnd(msgTime) + config.settleHours * 3_600_000) missingPastSettle.push(job);
    }
  }
  return { jobs, skipped, missingPastSettle, from: window.from, to: window.to };
}

/** Manifest keys present for these hours, read with one listing per chat type and day. */
export async function manifestKeysIn(
  store: ArchiveStore,
  chatTypes: readonly ChatType[],
  hours: readonly MsgTime[],
): Promise<Set<string>> {
  const days = [...new Set(hours.map((h) => hourParts(h).dt))];
  const keys = new Set<string>();
  for (const chatType of chatTypes) {
    for (const dt of days) {
      for await (const obj of store.list(manifestDayPrefix(chatType, dt))) keys.add(obj.key);
    }
  }
  return keys;
}
