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
import type { ArchiveStore, CopiedFile } from "../store/port.ts";
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

/** Why a captured medium is `absent`. */
export const ABSENT = "the archive store no longer has the bytes";

/**
 * Whether the store has a captured medium's bytes. jsonl and html learn it by copying them into the
 * export (MediaCopier.copy, one open per medium); rsmf takes it as present here and learns it when
 * it zips them (a medium then found absent is marked so: RsmfManifestBuilder.markAbsent).
 */
export type MediaPresence = (media: ExportMedia) => Promise<boolean>;

export class MediaResolver {
  readonly #store: ArchiveStore;
  readonly #cacheSize: number;
  readonly #present: MediaPresence;
  readonly #manifests = new Map<string, Promise<Map<string, MediaItem> | undefined>>();

  constructor(store: ArchiveStore, cacheSize: number, present: MediaPresence) {
    this.#store = store;
    this.#cacheSize = cacheSize;
    this.#present = present;
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
        const captured: ExportMedia = {
          ...base,
          status: "captured",
          banned: item.tencentStatus === 1,
          key: item.key,
          size: item.size,
          sha256: item.sha256,
          ...(item.contentType === undefined ? {} : { contentType: item.contentType }),
        };
        out.push(
          (await this.#present(captured)) ? captured : { ...captured, status: "absent", reason: ABSENT },
        );
      }
    }
    return out;
  }

  /** The archived bytes of a captured medium; the stream fails if they differ from what was recorded. */
  async open(media: ExportMedia): Promise<Readable> {
    const { key, sha256, size } = archived(media);
    const source = await this.#store.get(key);
    const check = verifyingStream(key, sha256, size);
    source.on("error", (error) => check.destroy(error));
    return source.pipe(check);
  }

  /**
   * The archived bytes of a captured medium, checked against what was recorded: whole, in one
   * Buffer, when it is recorded at most `wholeBytes` long (reading stops, and fails, past that);
   * else as `open` streams them.
   */
  async load(media: ExportMedia, wholeBytes: number): Promise<Buffer | Readable> {
    const { key, sha256, size } = archived(media);
    if (size > wholeBytes) return this.open(media);
    const chunks: Buffer[] = [];
    let seen = 0;
    for await (const chunk of await this.#store.get(key)) {
      chunks.push(chunk as Buffer);
      seen += (chunk as Buffer).length;
      if (seen > size) break;
    }
    const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    const got = createHash("sha256").update(bytes).digest("hex");
    if (got !== sha256 || bytes.length !== size)
      throw mismatch(key, { size: bytes.length, sha256: got }, { size, sha256 });
    return bytes;
  }

  /** An hour's media by RawURL; read once however many rows ask at the same time. */
  #manifest(chatType: ChatType, msgTime: MsgTime): Promise<Map<string, MediaItem> | undefined> {
    const id = `${chatType}/${msgTime}`;
    const cached = this.#manifests.get(id);
    if (cached !== undefined) {
      this.#manifests.delete(id);
      this.#manifests.set(id, cached);
      return cached;
    }
    const items = readMediaManifest(this.#store, chatType, msgTime).then((manifest) =>
      manifest === undefined ? undefined : new Map(manifest.items.map((i) => [i.rawUrl, i])),
    );
    // A failed read is not kept: the export fails with it, and nothing reads it again.
    items.catch(() => this.#manifests.delete(id));
    this.#manifests.set(id, items);
    if (this.#manifests.size > this.#cacheSize) {
      this.#manifests.delete(this.#manifests.keys().next().value as string);
    }
    return items;
  }
}

/**
 * Copies a captured medium's archived bytes to a new file at `path`, through a check of their SHA-256
 * and size against what its media manifest recorded (IntegrityError otherwise).
 */
export async function copyMedia(store: ArchiveStore, media: ExportMedia, path: string): Promise<CopiedFile> {
  const { key, size, sha256 } = archived(media);
  const copied = await store.copyToFile(key, path);
  if (copied.sha256 !== sha256 || copied.size !== size) throw mismatch(key, copied, { size, sha256 });
  return copied;
}

/** A captured medium's key and recorded facts; IntegrityError if the record lacks them. */
function archived(media: ExportMedia): { key: string; sha256: string; size: number } {
  const { key, sha256, size } = media;
  if (key === undefined || sha256 === undefined || size === undefined) {
    throw new IntegrityError(`media ${media.rawUrl} has no archived bytes`);
  }
  return { key, sha256, size };
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
        callback(mismatch(key, { size: seen, sha256: got }, { size, sha256 }));
      } else callback();
    },
  });
}

function mismatch(
  key: string,
  got: { size: number; sha256: string },
  recorded: { size: number; sha256: string },
): IntegrityError {
  return new IntegrityError(
    `archived media ${key} does not match its media manifest (${got.size} bytes, SHA-256 ${got.sha256}; recorded ${recorded.size} bytes, ${recorded.sha256})`,
    { key },
  );
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
