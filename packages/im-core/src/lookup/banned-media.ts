import { defaultWindow } from "../archive/plan.ts";
import { ValidationError } from "../errors.ts";
import { CHAT_TYPES } from "../im/types.ts";
import { mediaManifestKey } from "../media/layout.ts";
import { mediaManifestsIn } from "../media/plan.ts";
import { LIMITS } from "../schemas/limits.ts";
import type { BannedMedia, BannedMediaItem } from "../schemas/media.ts";
import type { ArchiveStore } from "../store/port.ts";
import { addHours, hourStart, type MsgTime, parseMsgTime } from "../time/msgtime.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import type { Caller } from "./lookup.ts";

export const BANNED_MEDIA_AUDIT_MESSAGE = "banned media listing";

export interface BannedMediaDeps {
  store: ArchiveStore;
  clock: Clock;
  logger: Logger;
}

/**
 * The window of `GET /v1/media/banned?from=&to=`: Beijing hours YYYYMMDDHH, both ends inclusive;
 * `to` defaults to the last ended hour, `from` to `lookbackHours` hours ending at `to`. At most
 * LIMITS.maxWindowHours hours; ValidationError naming the problem otherwise.
 */
export function bannedMediaWindow(
  nowMs: number,
  lookbackHours: number,
  fromText: string | undefined,
  toText: string | undefined,
): { from: MsgTime; to: MsgTime } {
  const to = toText === undefined ? defaultWindow(nowMs, lookbackHours).to : parseMsgTime(toText);
  const from = fromText === undefined ? addHours(to, -(lookbackHours - 1)) : parseMsgTime(fromText);
  const hours = (hourStart(to) - hourStart(from)) / 3_600_000 + 1;
  if (hours < 1) throw new ValidationError(`from ${from} is after to ${to}`, { from, to });
  if (hours > LIMITS.maxWindowHours) {
    throw new ValidationError(
      `the window ${from}..${to} has ${hours} hours; at most ${LIMITS.maxWindowHours}`,
      {
        from,
        to,
      },
    );
  }
  return { from, to };
}

/**
 * The captured media of the window's hours (both chat types) that Tencent reported banned (Status 1)
 * when they were fetched, read from the hours' media manifests; how many hours had a manifest, none
 * yet, or one that cannot be read. Writes one audit line: who, which window, how many were listed.
 */
export async function bannedMedia(
  deps: BannedMediaDeps,
  window: { from: MsgTime; to: MsgTime },
  caller: Caller,
): Promise<BannedMedia> {
  const started = deps.clock.now();
  const audit = { audit: true, keyName: caller.keyName, requestId: caller.requestId, ...window };
  const hours: MsgTime[] = [];
  for (let h = window.from; h <= window.to; h = addHours(h, 1)) hours.push(h);
  try {
    const manifests = await mediaManifestsIn(deps.store, CHAT_TYPES, hours);
    const items: BannedMediaItem[] = [];
    const counts = { captured: 0, pending: 0, corrupt: 0 };
    for (const msgTime of hours) {
      for (const chatType of CHAT_TYPES) {
        const manifest = manifests.get(mediaManifestKey(chatType, msgTime));
        if (manifest === undefined) counts.pending++;
        else if (manifest instanceof Error) counts.corrupt++;
        else {
          counts.captured++;
          for (const item of manifest.items) {
            if (item.status !== "captured" || item.tencentStatus !== 1) continue;
            items.push({
              chatType,
              msgTime,
              rawUrl: item.rawUrl,
              key: item.key,
              size: item.size,
              sha256: item.sha256,
              ...(item.contentType === undefined ? {} : { contentType: item.contentType }),
            });
          }
        }
      }
    }
    deps.logger.info(BANNED_MEDIA_AUDIT_MESSAGE, {
      ...audit,
      outcome: "ok",
      items: items.length,
      durationMs: deps.clock.now() - started,
    });
    return { ...window, items, hours: counts };
  } catch (error) {
    deps.logger.warn(BANNED_MEDIA_AUDIT_MESSAGE, {
      ...audit,
      outcome: "failed",
      error: error instanceof Error ? error.name : typeof error,
      durationMs: deps.clock.now() - started,
    });
    throw error;
  }
}
