import { hourPartitionOf } from "../evidence/layout.ts";
import { EXPORTS_PREFIX } from "../export/api-exports.ts";
import { EVIDENCE, EXPORT_LIMITS } from "../schemas/limits.ts";
import { hourEnd, hourOf } from "../time/msgtime.ts";
import type { ArchiveStore } from "./port.ts";

const DAY_MS = 86_400_000;

/**
 * Objects that are not the archive, locked only briefly: state rewritten as the archive runs (the head
 * hint, the last verification) and exports made through the API (expired by a lifecycle rule after
 * the same days, infra/storage.ts).
 */
const SHORT_LIVED: { prefix: string; days: number }[] = [
  { prefix: "digests-state/", days: EVIDENCE.stateRetentionDays },
  { prefix: "digests-verified/", days: EVIDENCE.stateRetentionDays },
  { prefix: EXPORTS_PREFIX, days: EXPORT_LIMITS.keepDays },
];

/**
 * Until when an object is locked (S3 Object Lock): its hour's end plus `days` for a key in an hour
 * partition (raw files, manifests, media manifests, tables), the end of the current hour plus `days`
 * for the rest (media files, digests, holds), plus its own few days for a short-lived object (state,
 * exports). Undefined when that is already past (an hour older than the retention): the bucket's
 * default retention applies then.
 */
export function retainUntilFor(key: string, days: number, nowMs: number): Date | undefined {
  const shortDays = SHORT_LIVED.find((s) => key.startsWith(s.prefix))?.days;
  const hour = hourPartitionOf(key);
  const base = shortDays !== undefined || hour === undefined ? hourEnd(hourOf(nowMs)) : hourEnd(hour);
  const until = base + (shortDays ?? days) * DAY_MS;
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
