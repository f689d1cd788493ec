import { createHash } from "node:crypto";
import { ValidationError } from "../errors.ts";
import type { ChatType } from "../im/types.ts";
import { hourParts, type MsgTime } from "../time/msgtime.ts";
import { type AllowList, isUrlAllowed } from "../util/allow-list.ts";

/**
 * Where captured media live (SPEC "Rich media"): the bytes of a RawURL at `media/{host}/{path}` (no
 * query string: COS names the object by its path, and a PreSigURL serves the object whatever
 * image-processing query the RawURL carried), one manifest per hour and chat type under
 * `media-manifests/`, and, per stored object, an index entry under `media-index/` that records its
 * SHA-256 so that a later hour holding the same URL does not fetch it again, and lookups by URL
 * (GET /v1/media) answer its facts.
 */

/** S3's limit on a key, in UTF-8 bytes. */
const MAX_KEY_BYTES = 1024;
/** Most file systems' limit on one path segment, in bytes. */
const MAX_SEGMENT_BYTES = 255;
/** scheme://authority path ?query #fragment, read from the text as given (before any normalising). */
const URL_PARTS = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/;

export type MediaKeyCheck = { key: string } | { problem: string };

/**
 * The storage key of a RawURL's bytes, or why the URL cannot name one. Refused: anything but an
 * absolute http(s) URL; credentials in it; a path with an empty, `.` or `..` segment (also
 * percent-encoded), a backslash or a control character; a segment over 255 or a key over 1024 bytes.
 * The segments are checked as written, before URL parsing would quietly resolve `..`.
 */
export function checkMediaKey(rawUrl: string): MediaKeyCheck {
  const parts = URL_PARTS.exec(rawUrl);
  if (parts === null) return { problem: "not an absolute URL" };
  const scheme = parts[1]!.toLowerCase();
  if (scheme !== "https" && scheme !== "http") return { problem: `scheme ${scheme} is not http(s)` };
  const rawPath = parts[3]!;
  if (rawPath.length <= 1) return { problem: "the URL names no object (empty path)" };
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\\\u0000-\u001f\u007f]/.test(rawPath))
    return { problem: "the path holds a backslash or control character" };
  for (const segment of rawPath.slice(1).split("/")) {
    if (segment === "") return { problem: "the path has an empty segment" };
    const decoded = safeDecode(segment);
    if (decoded === "." || decoded === ".." || segment === "." || segment === "..") {
      return { problem: "the path has a dot segment" };
    }
  }
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return { problem: "not an absolute URL" };
  }
  if (url.username !== "" || url.password !== "") return { problem: "the URL carries credentials" };
  if (url.hostname === "") return { problem: "the URL has no host" };
  // The parsed path differs from the written one only in percent-encoding now: one ASCII spelling.
  const segments = url.pathname.slice(1).split("/");
  if (segments.some((s) => Buffer.byteLength(s) > MAX_SEGMENT_BYTES)) {
    return { problem: `a path segment is longer than ${MAX_SEGMENT_BYTES} bytes` };
  }
  const key = `media/${url.host.toLowerCase()}/${segments.join("/")}`;
  // The index entry's key was once the object's with a longer prefix and suffix (legacyMediaIndexKeyFor).
  if (Buffer.byteLength(legacyMediaIndexKeyFor(key)) > MAX_KEY_BYTES)
    return { problem: `the key would exceed ${MAX_KEY_BYTES} bytes` };
  return { key };
}

/** The storage key of a RawURL's bytes: `media/{host}/{path}`. Throws ValidationError for an unsafe URL. */
export function mediaKey(rawUrl: string): string {
  const check = checkMediaKey(rawUrl);
  if ("problem" in check) throw new ValidationError(`media URL refused: ${check.problem}`);
  return check.key;
}

/**
 * `media-index/{d}/{h}.json`, h the SHA-256 (hex) of `key` and d its first digit: the recorded size
 * and SHA-256 of the object at `key`. Sixteen directories for every entry, not one per object's
 * directory: an hour's entries then cost no directory of their own to make and at most sixteen to
 * make durable (bench/README.md "Media capture"). The entry names its `key`.
 */
export function mediaIndexKeyFor(key: string): string {
  if (!key.startsWith("media/")) throw new ValidationError(`not a media key: ${key}`);
  const h = createHash("sha256").update(key).digest("hex");
  return `media-index/${h[0]}/${h}.json`;
}

/** Where an object's index entry was recorded before: `media-index/{host}/{path}.json` (still read). */
export function legacyMediaIndexKeyFor(key: string): string {
  if (!key.startsWith("media/")) throw new ValidationError(`not a media key: ${key}`);
  return `media-index/${key.slice("media/".length)}.json`;
}

/** `media-manifests/chat_type={…}/dt={YYYY-MM-DD}/hour={HH}.json`: the hour's commit point. */
export function mediaManifestKey(chatType: ChatType, msgTime: MsgTime): string {
  const { dt, hour } = hourParts(msgTime);
  return `media-manifests/chat_type=${chatType}/dt=${dt}/hour=${hour}.json`;
}

/** Prefix of every media manifest of one Beijing day of one chat type. */
export function mediaManifestDayPrefix(chatType: ChatType, dt: string): string {
  return `media-manifests/chat_type=${chatType}/dt=${dt}/`;
}

/**
 * Whether a RawURL is on the COS media hosts (COS_URL_HOSTS: `*.myqcloud.com` and the IM hosts by
 * default): only files uploaded through the IM SDK can be signed. The scheme does not matter here (the
 * RawURL itself is never fetched; its PreSigURL is, and that must pass the download hosts).
 */
export function isCosMediaUrl(rawUrl: string, cosHosts: AllowList): boolean {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return false;
  }
  if (isUrlAllowed(url, cosHosts)) return true;
  if (url.protocol !== "http:") return false;
  const secure = new URL(url.href);
  secure.protocol = "https:";
  return isUrlAllowed(secure, cosHosts);
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
