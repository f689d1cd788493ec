import type { ChatType } from "@imvault/im-core";
import type { Faults } from "./faults.ts";
import type { FileFigures, HourSpec } from "./generator.ts";
import type { KnownMedia, MediaKeys } from "./media.ts";
import type { RateLimiter } from "./rate-limit.ts";
import type { SeenDownload, SeenRequest } from "./records.ts";

/** Everything the request handlers share: resolved options plus the simulator's live state. */
export interface SimContext {
  sdkAppId: number;
  secretKey: string;
  admins: ReadonlySet<string>;
  seed: string;
  retentionMs: number;
  processingDelayMs: number;
  gzipLevel: number;
  urlTtlSeconds: number;
  presignTtlSeconds: number;
  clock: { now(): number };
  /** Origin put into download URLs and PreSigURLs. */
  publicOrigin(): string;
  /** Key of the download tokens and PreSigURL signs. */
  tokenKey: string;
  mediaKeys: MediaKeys;
  rate: RateLimiter;
  faults: Faults;
  requests: SeenRequest[];
  downloads: SeenDownload[];
  maxRecords: number;
  nextSeq(): number;
  isEmptyHour(chatType: ChatType, msgTime: string): boolean;
  hourSpec(chatType: ChatType, msgTime: string): HourSpec;
  /** Figures of the hour's files, computed once and kept (bytes too, on disk, with cacheDir). */
  figures(chatType: ChatType, msgTime: string): Promise<FileFigures[]>;
  /** Path of a file's cached GZip bytes, or undefined (no cacheDir, or not the file the token names). */
  cachedFile(
    chatType: ChatType,
    msgTime: string,
    index: number,
    gzipSize: number,
  ): Promise<string | undefined>;
  /** get_cos_sig status of a RawURL: 0 normal, 1 banned, 2 missing. */
  cosStatus(rawUrl: string, media: KnownMedia | undefined): 0 | 1 | 2;
  /** get_cos_sig answers this RawURL with an error Code (not a file uploaded through the IM SDK). */
  cosRefused(rawUrl: string): boolean;
  /** The size set for a media object (by its path), or undefined for its default small bytes. */
  mediaSize(objectPath: string): number | undefined;
  /** Sets a minted media URL's size; throws RangeError for another URL or a bad size. */
  setMediaSize(rawUrl: string, bytes: number): void;
}
