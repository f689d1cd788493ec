import type { ChatType } from "../im/types.ts";
import { hourParts, type MsgTime } from "../time/msgtime.ts";

/** The storage layout of SPEC.md: the same keys in S3 and under DATA_DIR. */

function partition(chatType: ChatType, msgTime: MsgTime): { dt: string; hour: string; base: string } {
  const { dt, hour } = hourParts(msgTime);
  return { dt, hour, base: `chat_type=${chatType}/dt=${dt}` };
}

/** Prefix under which every raw file of the hour lives (ends with a slash). */
export function rawHourPrefix(chatType: ChatType, msgTime: MsgTime): string {
  const { base, hour } = partition(chatType, msgTime);
  return `raw/${base}/hour=${hour}/`;
}

export function rawKey(chatType: ChatType, msgTime: MsgTime, fileName: string): string {
  return rawHourPrefix(chatType, msgTime) + fileName;
}

export function manifestKey(chatType: ChatType, msgTime: MsgTime): string {
  const { base, hour } = partition(chatType, msgTime);
  return `manifests/${base}/hour=${hour}.json`;
}

/**
 * Where a corrupt manifest's bytes are kept when a fresh manifest replaces them: beside the manifest
 * tree (outside `manifests/`, so nothing reads them as a commit), named by the bytes' SHA-256 so that
 * keeping the same bytes twice is one object and different corrupt versions never overwrite each other.
 */
export function corruptManifestKey(manifestKey: string, sha256: string): string {
  return `manifests-corrupt/${manifestKey.slice("manifests/".length)}.${sha256}`;
}

/** Prefix of every manifest of one Beijing day of one chat type. */
export function manifestDayPrefix(chatType: ChatType, dt: string): string {
  return `manifests/chat_type=${chatType}/dt=${dt}/`;
}

/** The last path segment of a download URL, which names the stored file. */
export function fileNameOf(url: string): string {
  const segments = new URL(url).pathname.split("/").filter((s) => s.length > 0);
  const last = decodeURIComponent(segments.at(-1) ?? "");
  // Keep names that are safe as one key segment on S3 and on every file system.
  const safe = last.replace(/[^A-Za-z0-9._-]/g, "_");
  return safe.length === 0 || safe === "." || safe === ".." ? "history.gz" : safe;
}

/** A URL without its query string or fragment: what the manifest records as `sourceUrl`. */
export function withoutQuery(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}
