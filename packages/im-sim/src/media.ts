import { Readable } from "node:stream";
import { hash32, hex8, mix32, Rng } from "./prng.ts";

/**
 * Rich-media URLs the simulator puts into histories, shaped like Tencent's COS URLs
 * (`https://cos.ap-shanghai.myqcloud.com/<bucket>/<dir>-<sdkappid>/<dir>-<account>/<32 hex>.<ext>`).
 * The 32-hex name is a 64-bit nonce plus a 64-bit keyed tag over (nonce, app, extension), so that
 * get_cos_sig can tell its own URLs from unknown ones without remembering a single one of them.
 */

export const COS_ORIGIN = "https://cos.ap-shanghai.myqcloud.com";

/** Extensions by media kind; the index in MEDIA_EXTS goes into the tag. */
export const MEDIA_EXTS = ["jpg", "png", "gif", "m4a", "mp4", "pdf", "docx", "zip", "xlsx", "txt"] as const;
export type MediaExt = (typeof MEDIA_EXTS)[number];

const CONTENT_TYPES: Record<MediaExt, string> = {
  jpg: "image/jpeg",
  png: "image/png",
  gif: "image/gif",
  m4a: "audio/mp4",
  mp4: "video/mp4",
  pdf: "application/pdf",
  docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  zip: "application/zip",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  txt: "text/plain; charset=utf-8",
};

/** The first bytes of a real file of each type, so that sniffers see the right kind. */
const MAGIC: Record<MediaExt, Buffer> = {
  jpg: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00]),
  // A whole 8×8 PNG (a checkerboard), not its magic number alone: a browser shows it (the noise after
  // IEND is ignored), so the console's previews can be seen and tested. JPEGs stay magic and noise.
  png: Buffer.from(
    "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAGUlEQVR42mNgKNr0bD4DFhK7aNEmhkGpAwBJt1Uh8MdUKwAAAABJRU5ErkJggg==",
    "base64",
  ),
  // Likewise a whole 8×8 GIF (uncompressed LZW: 8-bit codes, a 128-colour table, two used).
  gif: Buffer.from(
    "R0lGODlhCAAIAPYAAMx5pwCecwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" +
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" +
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" +
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" +
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" +
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAACwAAAAACAAIAAAHQoAAAAEBAAABAQAAAQEAAAEBAQEAAAEB" +
      "AAABAQAAAQEAAAAAAQEAAAEBAAABAQAAAQEBAQAAAQEAAAEBAAABAQAAgQA7",
    "base64",
  ),
  m4a: Buffer.from([0x00, 0x00, 0x00, 0x20, 0x66, 0x74, 0x79, 0x70, 0x4d, 0x34, 0x41, 0x20]),
  mp4: Buffer.from([0x00, 0x00, 0x00, 0x20, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d]),
  pdf: Buffer.from("%PDF-1.7\n", "latin1"),
  docx: Buffer.from([0x50, 0x4b, 0x03, 0x04]),
  zip: Buffer.from([0x50, 0x4b, 0x03, 0x04]),
  xlsx: Buffer.from([0x50, 0x4b, 0x03, 0x04]),
  txt: Buffer.from("imvault-sim media\n", "utf8"),
};

export interface MediaKeys {
  sdkAppId: number;
  bucket: string;
  k1: number;
  k2: number;
}

export function mediaKeys(seed: string, sdkAppId: number): MediaKeys {
  const k1 = hash32(`media-tag-1|${seed}|${sdkAppId}`);
  const k2 = hash32(`media-tag-2|${seed}|${sdkAppId}`);
  const b = hash32(`bucket|${sdkAppId}`);
  return {
    sdkAppId,
    bucket: `${hex8(b).slice(0, 4)}-shanghai-007-privatev2-01-1256635546`,
    k1,
    k2,
  };
}

function tag(keys: MediaKeys, hi: number, lo: number, extIndex: number): string {
  const app = keys.sdkAppId >>> 0;
  return hex8(mix32(keys.k1, hi, lo, app ^ extIndex)) + hex8(mix32(keys.k2, lo, hi, app + extIndex));
}

/** Mints a media URL from the generator's PRNG (three draws). */
export function mintMediaUrl(keys: MediaKeys, rng: Rng, ext: MediaExt, account: string): string {
  const hi = rng.next();
  const lo = rng.next();
  const dirs = rng.next();
  const extIndex = MEDIA_EXTS.indexOf(ext);
  const d1 = hex8(dirs).slice(0, 4);
  const d2 = hex8(dirs).slice(4);
  return `${COS_ORIGIN}/${keys.bucket}/${d1}-${keys.sdkAppId}/${d2}-${account}/${hex8(hi)}${hex8(lo)}${tag(keys, hi, lo, extIndex)}.${ext}`;
}

export interface KnownMedia {
  /** `<bucket>/<dir>/<dir>/<name>.<ext>`: the object's path, without the origin or a query. */
  objectPath: string;
  name: string;
  ext: MediaExt;
}

const NAME_RE = /^([0-9a-f]{8})([0-9a-f]{8})([0-9a-f]{16})\.([a-z0-9]+)$/;

/**
 * The media object behind `rawUrl` if this simulator minted it for this app, else undefined. A query
 * string (e.g. an image thumbnail suffix) is ignored, as COS ignores it for the object's identity.
 */
export function recogniseMediaUrl(keys: MediaKeys, rawUrl: string): KnownMedia | undefined {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return undefined;
  }
  if (`${url.protocol}//${url.host}` !== COS_ORIGIN) return undefined;
  return recogniseObjectPath(keys, url.pathname.slice(1));
}

/** Like recogniseMediaUrl, for the object path alone (as the PreSigURL route carries it). */
export function recogniseObjectPath(keys: MediaKeys, objectPath: string): KnownMedia | undefined {
  const parts = objectPath.split("/");
  if (parts.length !== 4) return undefined;
  const [bucket, appDir, , file] = parts as [string, string, string, string];
  if (bucket !== keys.bucket || appDir.slice(5) !== String(keys.sdkAppId) || appDir[4] !== "-")
    return undefined;
  const m = NAME_RE.exec(file);
  if (m === null) return undefined;
  const ext = m[4] as MediaExt;
  const extIndex = MEDIA_EXTS.indexOf(ext);
  if (extIndex < 0) return undefined;
  const hi = Number.parseInt(m[1]!, 16);
  const lo = Number.parseInt(m[2]!, 16);
  if (tag(keys, hi, lo, extIndex) !== m[3]) return undefined;
  return { objectPath, name: file.slice(0, 32), ext };
}

/** Deterministic small bytes of the right kind (0.5 – 4 KiB) for a media object. */
export function mediaBytes(media: KnownMedia): { body: Buffer; contentType: string } {
  const rng = new Rng(`media-bytes|${media.objectPath}`);
  const magic = MAGIC[media.ext];
  const body = Buffer.alloc(rng.int(512, 4096));
  magic.copy(body, 0);
  for (let i = magic.length; i < body.length; i++) body[i] = rng.next() & 0xff;
  return { body, contentType: CONTENT_TYPES[media.ext] };
}

/** Content type of a media object, by its extension. */
export function mediaContentType(media: KnownMedia): string {
  return CONTENT_TYPES[media.ext];
}

/** Bytes per generated piece of a sized object: each piece is made from its own seed, so any can start a Range. */
export const SIZED_PIECE_BYTES = 256 * 1024;

/**
 * The bytes of a media object of `size` bytes (set with `mediaSizes` / `setMediaSize`), made piece by
 * piece as they are read, so that a 2 GiB object costs one piece of memory: the extension's magic
 * number, then xorshift128 output seeded per piece from the object path. Starts at the piece holding
 * `start`; `at` is that piece's offset (the caller skips `start - at` bytes).
 */
export function sizedMediaStream(
  media: KnownMedia,
  size: number,
  start = 0,
): { stream: Readable; at: number } {
  const magic = MAGIC[media.ext];
  let piece = Math.floor(start / SIZED_PIECE_BYTES);
  const at = piece * SIZED_PIECE_BYTES;
  const stream = new Readable({
    highWaterMark: SIZED_PIECE_BYTES,
    read() {
      const offset = piece * SIZED_PIECE_BYTES;
      if (offset >= size) {
        this.push(null);
        return;
      }
      const bytes = sizedPiece(media.objectPath, piece, Math.min(SIZED_PIECE_BYTES, size - offset));
      if (piece === 0) magic.copy(bytes, 0, 0, Math.min(magic.length, bytes.length));
      piece++;
      this.push(bytes);
    },
  });
  return { stream, at };
}

function sizedPiece(objectPath: string, piece: number, length: number): Buffer {
  const words = new Uint32Array(Math.ceil(length / 4));
  let x = hash32(`sized|${objectPath}|${piece}|x`) | 1;
  let y = hash32(`sized|${objectPath}|${piece}|y`);
  let z = hash32(`sized|${objectPath}|${piece}|z`);
  let w = hash32(`sized|${objectPath}|${piece}|w`);
  for (let i = 0; i < words.length; i++) {
    const t = x ^ (x << 11);
    x = y;
    y = z;
    z = w;
    w = w ^ (w >>> 19) ^ (t ^ (t >>> 8));
    words[i] = w;
  }
  return Buffer.from(words.buffer, 0, length);
}

/** The bytes of a default-sized object as a stream (see mediaBytes). */
export function smallMediaStream(media: KnownMedia): Readable {
  return Readable.from([mediaBytes(media).body]);
}
