/**
 * The media of exported messages, as media capture left them: each RawURL of a message looked up in
 * its hour's media manifest (captured, with Tencent's banned flag; missing; refused; or not captured
 * yet) and, when captured, read from the archive store through a check of its recorded SHA-256 and
 * size, so that what an export holds is byte for byte what the archive holds.
 */
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { Transform } from "node:stream";
import { IntegrityError } from "../errors.ts";
import { type MediaType, mediaUrls } from "../history/media.ts";
import type { HistoryMessage } from "../history/types.ts";
import type { ChatType } from "../im/types.ts";
import { type MediaItem, readMediaManifest } from "../media/manifest.ts";
import type { ArchiveStore } from "../store/port.ts";
import type { MsgTime } from "../time/msgtime.ts";
import type { ExportRow } from "./source.ts";

/**
 * - captured: the bytes are in the archive (copied into the export; `banned` when Tencent reported it so)
 * - missing: Tencent no longer had the file when media were captured
 * - refused: not a file get_cos_sig could sign (`reason`)
 * - not-captured: the hour's media have not been captured (yet)
 * - absent: the media manifest records the bytes, but the store no longer has them
 */
export type ExportMediaStatus = "captured" | "missing" | "refused" | "not-captured" | "absent";

export interface ExportMedia {
  rawUrl: string;
  type: MediaType;
  /** The element of the message's MsgBody the URL is in. */
  elemIndex: number;
  status: ExportMediaStatus;
  banned: boolean;
  key?: string;
  size?: number;
  sha256?: string;
  contentType?: string;
  reason?: string;
}

export class MediaResolver {
  readonly #store: ArchiveStore;
  readonly #cacheSize: number;
  readonly #manifests = new Map<string, Map<string, MediaItem> | undefined>();
  readonly #present = new Map<string, boolean>();

  constructor(store: ArchiveStore, cacheSize: number) {
    this.#store = store;
    this.#cacheSize = cacheSize;
  }

  /** The distinct media of one row's message, in MsgBody order. */
  async resolve(row: ExportRow): Promise<ExportMedia[]> {
    if (row.media_urls.length === 0) return [];
    let message: HistoryMessage;
    try {
      message = JSON.parse(row.raw) as HistoryMessage;
    } catch {
      return [];
    }
    const items = await this.#manifest(row.chat_type, row.msg_time);
    const seen = new Set<string>();
    const out: ExportMedia[] = [];
    for (const m of mediaUrls(message)) {
      if (seen.has(m.url)) continue;
      seen.add(m.url);
      const base = { rawUrl: m.url, type: m.type, elemIndex: m.elemIndex, banned: false };
      const item = items?.get(m.url);
      if (item === undefined) {
        out.push({ ...base, status: "not-captured" });
      } else if (item.status === "missing") {
        out.push({ ...base, status: "missing" });
      } else if (item.status === "refused") {
        out.push({ ...base, status: "refused", reason: item.reason });
      } else {
        const captured = {
          ...base,
          banned: item.tencentStatus === 1,
          key: item.key,
          size: item.size,
          sha256: item.sha256,
          ...(item.contentType === undefined ? {} : { contentType: item.contentType }),
        };
        out.push(
          (await this.#isPresent(item.key))
            ? { ...captured, status: "captured" }
            : { ...captured, status: "absent", reason: "the archive store no longer has the bytes" },
        );
      }
    }
    return out;
  }

  /** The archived bytes of a captured medium; the stream fails if they differ from what was recorded. */
  async open(media: ExportMedia): Promise<Readable> {
    if (media.key === undefined || media.sha256 === undefined || media.size === undefined) {
      throw new IntegrityError(`media ${media.rawUrl} has no archived bytes`);
    }
    const source = await this.#store.get(media.key);
    const check = verifyingStream(media.key, media.sha256, media.size);
    source.on("error", (error) => check.destroy(error));
    return source.pipe(check);
  }

  async #isPresent(key: string): Promise<boolean> {
    let present = this.#present.get(key);
    if (present === undefined) {
      present = (await this.#store.head(key)) !== undefined;
      this.#present.set(key, present);
    }
    return present;
  }

  async #manifest(chatType: ChatType, msgTime: MsgTime): Promise<Map<string, MediaItem> | undefined> {
    const id = `${chatType}/${msgTime}`;
    if (this.#manifests.has(id)) {
      const cached = this.#manifests.get(id);
      this.#manifests.delete(id);
      this.#manifests.set(id, cached);
      return cached;
    }
    const manifest = await readMediaManifest(this.#store, chatType, msgTime);
    const items = manifest === undefined ? undefined : new Map(manifest.items.map((i) => [i.rawUrl, i]));
    this.#manifests.set(id, items);
    if (this.#manifests.size > this.#cacheSize) {
      this.#manifests.delete(this.#manifests.keys().next().value as string);
    }
    return items;
  }
}

/** Passes bytes through; at the end, fails unless they hash to `sha256` and number `size`. */
export function verifyingStream(key: string, sha256: string, size: number): Transform {
  const hash = createHash("sha256");
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      seen += chunk.length;
      callback(null, chunk);
    },
    flush(callback) {
      const got = hash.digest("hex");
      if (got !== sha256 || seen !== size) {
        callback(
          new IntegrityError(
            `archived media ${key} does not match its media manifest (${seen} bytes, SHA-256 ${got}; recorded ${size} bytes, ${sha256})`,
            { key },
          ),
        );
      } else callback();
    },
  });
}

/** The export's file name of a medium: its archive key, unchanged (`media/{host}/{path}`). */
export function mediaExportPath(media: ExportMedia): string {
  return media.key!;
}

/** Whether a browser can show it inline: an image, a video or a sound, by its type or MsgType. */
export function mediaKind(media: ExportMedia): "image" | "video" | "audio" | "file" {
  const ct = media.contentType ?? "";
  if (ct.startsWith("image/") || (ct === "" && (media.type === "image" || media.type === "thumb")))
    return "image";
  if (ct.startsWith("video/") || (ct === "" && media.type === "video")) return "video";
  if (ct.startsWith("audio/") || (ct === "" && media.type === "sound")) return "audio";
  return "file";
}
