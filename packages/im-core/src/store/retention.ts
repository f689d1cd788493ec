import { hourPartitionOf } from "../evidence/layout.ts";
import { EVIDENCE } from "../schemas/limits.ts";
import { hourEnd, hourOf } from "../time/msgtime.ts";
import type { ArchiveStore } from "./port.ts";

const DAY_MS = 86_400_000;

/** State rewritten as the archive runs (the head hint, the last verification): locked briefly. */
const STATE_PREFIXES = ["digests-state/", "digests-verified/"];

/**
 * Until when an object is locked (S3 Object Lock): its hour's end plus `days` for a key in an hour
 * partition (raw files, manifests, media manifests, tables), the end of the current hour plus `days`
 * for the rest (media files, digests, holds), a day for the state objects. Undefined when that is
 * already past (an hour older than the retention): the bucket's default retention applies then.
 */
export function retainUntilFor(key: string, days: number, nowMs: number): Date | undefined {
  const stateDays = STATE_PREFIXES.some((p) => key.startsWith(p)) ? EVIDENCE.stateRetentionDays : undefined;
  const hour = hourPartitionOf(key);
  const base = stateDays !== undefined || hour === undefined ? hourEnd(hourOf(nowMs)) : hourEnd(hour);
  const until = base + (stateDays ?? days) * DAY_MS;
  return until > nowMs + 60_000 ? new Date(until) : undefined;
}

/** `store`, each put locked per retainUntilFor unless it names its own `retainUntil`. */
export function withRetention(store: ArchiveStore, days: number, now: () => number = Date.now): ArchiveStore {
  return {
    ...store,
    put(key, body, options = {}) {
      if (options.retainUntil !== undefined) return store.put(key, body, options);
      const retainUntil = retainUntilFor(key, days, now());
      return store.put(key, body, retainUntil === undefined ? options : { ...options, retainUntil });
    },
  };
}
