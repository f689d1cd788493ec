import * as v from "valibot";
import { NotFoundError, ValidationError } from "../errors.ts";
import { checkMediaKey, isCosMediaUrl } from "../media/layout.ts";
import { readMediaIndexEntry } from "../media/manifest.ts";
import { RawUrlSchema } from "../schemas/cos-sig.ts";
import type { MediaLookup } from "../schemas/media.ts";
import type { ArchiveStore } from "../store/port.ts";
import type { AllowList } from "../util/allow-list.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import type { Caller } from "./lookup.ts";

export const MEDIA_AUDIT_MESSAGE = "media lookup";

export interface MediaLookupDeps {
  store: ArchiveStore;
  clock: Clock;
  logger: Logger;
}

/**
 * The RawURL of `GET /v1/media?rawUrl=…`, checked like a cos-sig item's (an absolute URL without
 * credentials, at most MAX_RAW_URL_LENGTH characters) and like media capture checks it (on the COS
 * hosts, a path that can name a stored object); answers its storage key. ValidationError otherwise.
 */
export function mediaKeyOfRequest(rawUrl: string | undefined, cosHosts: AllowList): string {
  if (rawUrl === undefined) {
    throw new ValidationError("give the media URL as the rawUrl query parameter, percent-encoded");
  }
  const parsed = v.safeParse(RawUrlSchema, rawUrl, { abortPipeEarly: true });
  if (!parsed.success) throw new ValidationError(parsed.issues[0].message.replace(/^RawURL/, "rawUrl"));
  if (!isCosMediaUrl(rawUrl, cosHosts)) {
    throw new ValidationError(
      `rawUrl host ${new URL(rawUrl).host} is not on the allowed hosts (${cosHosts.join(", ")}; COS_URL_HOSTS)`,
    );
  }
  const check = checkMediaKey(rawUrl);
  if ("problem" in check) throw new ValidationError(`rawUrl cannot name a stored object: ${check.problem}`);
  return check.key;
}

/**
 * The archived copy of one media URL: what its index entry records (size, SHA-256, content type,
 * Tencent's status when it was fetched) and a download URL valid `ttlSeconds`; NotFoundError when
 * it was never captured (or was missing or refused when its hour was). Writes exactly one audit line
 * per lookup: who (the key's name), which resource (host and path, never a query), what was found.
 */
export async function lookupMedia(
  deps: MediaLookupDeps,
  rawUrl: string,
  key: string,
  caller: Caller,
  ttlSeconds: number,
): Promise<MediaLookup> {
  const started = deps.clock.now();
  const url = new URL(rawUrl);
  const audit = {
    audit: true,
    keyName: caller.keyName,
    requestId: caller.requestId,
    resource: { host: url.host, path: url.pathname },
    key,
  };
  try {
    const entry = await readMediaIndexEntry(deps.store, key);
    const stored = entry === undefined ? undefined : await deps.store.head(key);
    if (entry === undefined || stored === undefined) {
      deps.logger.info(MEDIA_AUDIT_MESSAGE, {
        ...audit,
        outcome: "not_captured",
        durationMs: deps.clock.now() - started,
      });
      throw new NotFoundError(
        `no archived copy of ${url.host}${url.pathname}: its media were not captured (yet), or Tencent no longer had it, or refused it (GET /v1/archive/{chatType}/{msgTime} lists each hour's media)`,
        { details: { key } },
      );
    }
    const answer: MediaLookup = {
      rawUrl,
      status: "captured",
      key,
      size: entry.size,
      sha256: entry.sha256,
      ...(entry.contentType === undefined ? {} : { contentType: entry.contentType }),
      ...(entry.tencentStatus === undefined ? {} : { tencentStatus: entry.tencentStatus }),
      capturedAt: entry.capturedAt,
      url: await deps.store.signedUrl(key, ttlSeconds),
      expiresAt: new Date(deps.clock.now() + ttlSeconds * 1000).toISOString(),
    };
    deps.logger.info(MEDIA_AUDIT_MESSAGE, {
      ...audit,
      outcome: "ok",
      size: entry.size,
      ...(entry.tencentStatus === undefined ? {} : { tencentStatus: entry.tencentStatus }),
      durationMs: deps.clock.now() - started,
    });
    return answer;
  } catch (error) {
    if (!(error instanceof NotFoundError)) {
      deps.logger.warn(MEDIA_AUDIT_MESSAGE, {
        ...audit,
        outcome: "failed",
        error: error instanceof Error ? error.name : typeof error,
        durationMs: deps.clock.now() - started,
      });
    }
    throw error;
  }
}
