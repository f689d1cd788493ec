import * as v from "valibot";
import { ImTransportError, ValidationError } from "../errors.ts";
import { PreSigUrlItemSchema } from "../schemas/cos-sig.ts";
import { type MsgTime, parseBeijing, parseMsgTime } from "../time/msgtime.ts";
import type { ImClient } from "./client.ts";
import {
  CHAT_TYPES,
  type ChatType,
  type CosSigRequestItem,
  type CosSigResult,
  type CosStatusText,
  type HistoryFile,
} from "./types.ts";

/** get_history's private "system error": transient, retried like the public rate/timeout codes. */
const HISTORY_SYSTEM_ERROR = 1003;
/** PreSigURLs are valid 15 minutes unless the URL says otherwise (im-time-expired). */
const PRESIG_VALIDITY_MS = 15 * 60_000;
const DEFAULT_COS_CHUNK = 100;

const md5Hex = v.pipe(v.string(), v.regex(/^[0-9a-fA-F]{32}$/, "not an MD5 in hex"));
const byteCount = v.pipe(v.number(), v.integer(), v.minValue(0));

const historyAnswer = v.object({
  File: v.array(
    v.object({
      URL: v.pipe(v.string(), v.url()),
      ExpireTime: v.string(),
      FileSize: byteCount,
      FileMD5: md5Hex,
      GzipSize: byteCount,
      GzipMD5: md5Hex,
    }),
  ),
});

/** Tencent's answer; a Desc or PreSigURL left out reads as empty. */
const cosSigAnswer = v.object({
  PreSigURLs: v.array(
    v.object({
      ...PreSigUrlItemSchema.entries,
      Desc: v.optional(v.string(), ""),
      PreSigURL: v.optional(v.string(), ""),
    }),
  ),
});

/** The problem with an answer, by field path, without any value (URLs in it may carry signatures). */
function malformed(command: string, problem: string): ImTransportError {
  // Retryable: a garbled answer may be a one-off, and giving up on an hour loses it for good.
  return new ImTransportError(`Tencent IM ${command} answered in an unexpected shape: ${problem}`);
}

function describeIssues(issues: readonly v.BaseIssue<unknown>[]): string {
  return issues
    .slice(0, 3)
    .map((issue) => `${v.getDotPath(issue) ?? "(answer)"}: ${issue.message}`)
    .join("; ");
}

/**
 * The download links of one hour's history files (every file: an hour may have several). Tencent's
 * 1004 (not generated yet / no messages) and 1005 (expired) surface as ImApiError with that code: what
 * they mean depends on how old the hour is, which the caller knows.
 */
export async function getHistory(
  client: ImClient,
  chatType: ChatType,
  msgTime: MsgTime,
  options: { signal?: AbortSignal } = {},
): Promise<HistoryFile[]> {
  if (!(CHAT_TYPES as readonly string[]).includes(chatType)) {
    throw new ValidationError(`chat type "${chatType}" is not one of ${CHAT_TYPES.join(", ")}`);
  }
  parseMsgTime(msgTime);
  const command = "open_msg_svc/get_history";
  const answer = await client.call(
    "open_msg_svc",
    "get_history",
    { ChatType: chatType, MsgTime: msgTime },
    { ...options, extraRetryableCodes: [HISTORY_SYSTEM_ERROR] },
  );
  const parsed = v.safeParse(historyAnswer, answer);
  if (!parsed.success) throw malformed(command, describeIssues(parsed.issues));
  return parsed.output.File.map((file, index) => {
    let expiresAtMs: number;
    try {
      expiresAtMs = parseBeijing(file.ExpireTime);
    } catch {
      throw malformed(command, `File.${index}.ExpireTime: not "YYYY-MM-DD HH:mm:ss"`);
    }
    return {
      url: file.URL,
      expiresAt: new Date(expiresAtMs),
      expireTimeText: file.ExpireTime,
      fileSize: file.FileSize,
      fileMd5: file.FileMD5.toLowerCase(),
      gzipSize: file.GzipSize,
      gzipMd5: file.GzipMD5.toLowerCase(),
    };
  });
}

const STATUS_TEXT: Readonly<Record<number, CosStatusText>> = { 0: "normal", 1: "banned", 2: "missing" };

/** When Tencent put an expiry in the PreSigURL (`im-time-expired=<unix seconds>`), that instant. */
function presignedExpiry(preSigUrl: string): number | undefined {
  let value: string | null;
  try {
    value = new URL(preSigUrl).searchParams.get("im-time-expired");
  } catch {
    return undefined;
  }
  if (value === null || !/^\d{1,12}$/.test(value)) return undefined;
  return Number(value) * 1000;
}

/**
 * FULL_CONTROL signed URLs and statuses for rich-media URLs, in the caller's order. Items go to
 * Tencent in chunks of `chunkSize` (one call each, one after the other through the client's rate
 * limit); ResourceIDs must be unique so that answers map back to items.
 */
export async function getCosSig(
  client: ImClient,
  items: CosSigRequestItem[],
  options: { chunkSize?: number; signal?: AbortSignal } = {},
): Promise<CosSigResult[]> {
  const chunkSize = options.chunkSize ?? DEFAULT_COS_CHUNK;
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) {
    throw new ValidationError(`chunk size must be a positive integer, got ${chunkSize}`);
  }
  const ids = new Set<number>();
  for (const item of items) {
    if (ids.has(item.ResourceID)) {
      throw new ValidationError(`ResourceID ${item.ResourceID} appears more than once`, {
        resourceId: item.ResourceID,
      });
    }
    ids.add(item.ResourceID);
  }

  const command = "im_cos_msg/get_cos_sig";
  const results: CosSigResult[] = [];
  for (let start = 0; start < items.length; start += chunkSize) {
    const chunk = items.slice(start, start + chunkSize);
    const answer = await client.call(
      "im_cos_msg",
      "get_cos_sig",
      { RawURLs: chunk.map(({ ResourceID, RawURL }) => ({ ResourceID, RawURL })) },
      options.signal === undefined ? {} : { signal: options.signal },
    );
    const answeredAt = client.clock.now();
    const parsed = v.safeParse(cosSigAnswer, answer);
    if (!parsed.success) throw malformed(command, describeIssues(parsed.issues));
    const byId = new Map(parsed.output.PreSigURLs.map((entry) => [entry.ResourceID, entry]));
    for (const item of chunk) {
      const entry = byId.get(item.ResourceID);
      if (entry === undefined)
        throw malformed(command, `no PreSigURLs item for ResourceID ${item.ResourceID}`);
      results.push({
        ResourceID: entry.ResourceID,
        Code: entry.Code,
        Desc: entry.Desc,
        PreSigURL: entry.PreSigURL,
        Status: entry.Status,
        StatusText: STATUS_TEXT[entry.Status] ?? "unknown",
        ExpiresAt: new Date(
          presignedExpiry(entry.PreSigURL) ?? answeredAt + PRESIG_VALIDITY_MS,
        ).toISOString(),
      });
    }
  }
  return results;
}
