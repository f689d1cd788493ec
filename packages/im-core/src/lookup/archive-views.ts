import { type Coverage, coverage } from "../archive/coverage.ts";
import { manifestKey } from "../archive/layout.ts";
import { type Manifest, readManifest } from "../archive/manifest.ts";
import { defaultWindow } from "../archive/plan.ts";
import { NotFoundError, ValidationError } from "../errors.ts";
import { CHAT_TYPES, type ChatType } from "../im/types.ts";
import { DEFAULTS, LIMITS } from "../schemas/limits.ts";
import type { ArchiveStore } from "../store/port.ts";
import { parseMsgTime } from "../time/msgtime.ts";
import type { Clock } from "../util/clock.ts";

/** What the HTTP API shows of the archive: one hour with download links, and the coverage table. */

/** `/v1/status?hours=N`: at most LIMITS.maxWindowHours (the name the OpenAPI document reads). */
export const MAX_STATUS_HOURS = LIMITS.maxWindowHours;

export interface FileDownload {
  key: string;
  url: string;
  expiresAt: string;
}

export interface ArchivedHourView {
  manifest: Manifest;
  /** One per manifest file, in the same order; empty for an `empty` or `expired` hour. */
  downloads: FileDownload[];
}

export function parseChatType(text: string): ChatType {
  if (!(CHAT_TYPES as readonly string[]).includes(text)) {
    throw new ValidationError(`chatType "${text}" is not one of ${CHAT_TYPES.join(", ")}`, {
      chatType: text,
    });
  }
  return text as ChatType;
}

/** The hour's manifest and short-lived download URLs of its files; NotFoundError when not archived. */
export async function archivedHour(
  deps: { store: ArchiveStore; clock: Clock },
  chatTypeText: string,
  msgTimeText: string,
  ttlSeconds: number = DEFAULTS.downloadTtlSeconds,
): Promise<ArchivedHourView> {
  const chatType = parseChatType(chatTypeText);
  const msgTime = parseMsgTime(msgTimeText);
  const manifest = await readManifest(deps.store, chatType, msgTime);
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
  return { manifest, downloads };
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

/** Coverage of the last `hours` ended Beijing hours, both chat types: what `imvault status` prints. */
export async function recentCoverage(
  deps: { store: ArchiveStore; clock: Clock },
  hours: number,
): Promise<Coverage & { hours: number }> {
  return { hours, ...(await coverage(deps.store, defaultWindow(deps.clock.now(), hours))) };
}
