import { coverage } from "../archive/coverage.ts";
import { manifestKey } from "../archive/layout.ts";
import { readManifest } from "../archive/manifest.ts";
import { defaultWindow } from "../archive/plan.ts";
import { CorruptManifestError, IntegrityError, NotFoundError, ValidationError } from "../errors.ts";
import { evidenceStatus } from "../evidence/records.ts";
import type { ChatType } from "../im/types.ts";
import { readMediaManifest } from "../media/manifest.ts";
import type { ArchivedHourView } from "../schemas/archive-view.ts";
import { parseChatType } from "../schemas/common.ts";
import type { RecentCoverage } from "../schemas/coverage.ts";
import { DEFAULTS, LIMITS } from "../schemas/limits.ts";
import type { Manifest } from "../schemas/manifest.ts";
import type { HourMedia } from "../schemas/media.ts";
import type { ArchiveStore } from "../store/port.ts";
import { type MsgTime, parseMsgTime } from "../time/msgtime.ts";
import type { Clock } from "../util/clock.ts";

/** What the HTTP API shows of the archive: one hour with download links, and the coverage table. */

/** `/v1/status?hours=N`: at most LIMITS.maxWindowHours (the name the OpenAPI document reads). */
export const MAX_STATUS_HOURS = LIMITS.maxWindowHours;

/**
 * The hour's manifest, short-lived download URLs of its files and its media manifest's items (or
 * `pending` / `corrupt`); NotFoundError when not archived,
 * CorruptManifestError (naming the key, chat type and hour) when its manifest is not JSON or not a manifest.
 */
export async function archivedHour(
  deps: { store: ArchiveStore; clock: Clock },
  chatTypeText: string,
  msgTimeText: string,
  ttlSeconds: number = DEFAULTS.downloadTtlSeconds,
): Promise<ArchivedHourView> {
  const chatType = parseChatType(chatTypeText);
  const msgTime = parseMsgTime(msgTimeText);
  let manifest: Manifest | undefined;
  try {
    manifest = await readManifest(deps.store, chatType, msgTime);
  } catch (err) {
    if (!(err instanceof CorruptManifestError)) throw err;
    throw new CorruptManifestError(err.key, err.problem, { ...err.details, chatType, msgTime });
  }
  if (manifest === undefined) {
    throw new NotFoundError(
      `hour ${msgTime} (Beijing time) of ${chatType} is not archived: there is no manifest ${manifestKey(chatType, msgTime)} yet`,
      { details: { chatType, msgTime } },
    );
  }
  const expiresAt = new Date(deps.clock.now() + ttlSeconds * 1000).toISOString();
  const downloads = await Promise.all(
    manifest.files.map(async (f) => ({
      key: f.key,
      url: await deps.store.signedUrl(f.key, ttlSeconds),
      expiresAt,
    })),
  );
  return { manifest, downloads, media: await hourMedia(deps.store, chatType, msgTime) };
}

async function hourMedia(store: ArchiveStore, chatType: ChatType, msgTime: MsgTime): Promise<HourMedia> {
  try {
    const media = await readMediaManifest(store, chatType, msgTime);
    return media === undefined ? "pending" : { capturedAt: media.capturedAt, items: media.items };
  } catch (err) {
    if (err instanceof IntegrityError) return "corrupt";
    throw err;
  }
}

/** `hours` as the query string gave it (or undefined): a whole number from 1 to MAX_STATUS_HOURS. */
export function parseStatusHours(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d{1,4}$/.test(text) || Number(text) < 1 || Number(text) > MAX_STATUS_HOURS) {
    throw new ValidationError(
      `hours must be a whole number from 1 to ${MAX_STATUS_HOURS}, got "${text.slice(0, 20)}"`,
      {
        hours: text.slice(0, 20),
      },
    );
  }
  return Number(text);
}

/**
 * Coverage of the last `hours` ended Beijing hours, both chat types: what `imvault status` prints,
 * with the chain's head and the last verification. Those are left out, not failed, when they cannot
 * be read: the coverage is what the status is for.
 */
export async function recentCoverage(
  deps: { store: ArchiveStore; clock: Clock },
  hours: number,
): Promise<RecentCoverage> {
  const [covered, evidence] = await Promise.all([
    coverage(deps.store, defaultWindow(deps.clock.now(), hours)),
    evidenceStatus(deps.store).catch(() => undefined),
  ]);
  return { hours, ...covered, ...(evidence === undefined ? {} : { evidence }) };
}
