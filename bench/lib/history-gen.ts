/**
 * Generates realistic Tencent IM history files (get_history §3.11 layout) for benchmarks and load
 * tests: header line, one compact JSON message a line ending in `,` (the last one in ` ` like
 * Tencent's example), then `]}`. Bodies mix Chinese + emoji text, images in three sizes, sounds,
 * files, videos with thumbnails, custom and face elements; a few messages carry an extra field.
 *
 * Everything streams: the file is produced in ~64 KiB chunks and never held whole. Output is
 * deterministic for a given seed.
 */
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";

export interface HistoryGenOptions {
  /** Default 1400187352. */
  sdkAppId?: number;
  /** Default "C2C". Group messages carry GroupId instead of To_Account, and no MsgRandom. */
  chatType?: "C2C" | "Group";
  /** Beijing hour, YYYYMMDDHH. Default "2015120121". Timestamps spread over that hour. */
  msgTime?: string;
  /** Stop at the first message that brings the plain size to at least this many bytes. */
  targetBytes?: number;
  /** Exact number of messages (0 = an empty hour). Wins over targetBytes. Default: 1000 if neither. */
  messages?: number;
  /** PRNG seed. Default 1. */
  seed?: number;
  /** Origin of media URLs. Default "https://cos.ap-shanghai.myqcloud.com". */
  mediaOrigin?: string;
  /** The accounts messages are from and to. Default: 500 generated ones. */
  users?: readonly string[];
  /** The groups group messages are in. Default: 50 generated ones. */
  groups?: readonly string[];
}

/** What a generated file holds. */
export interface HistoryGenStats {
  messages: number;
  plainBytes: number;
  /** Rich-media URLs across all messages (each image size, video and thumbnail counted). */
  mediaUrls: number;
}

export interface GzipHistoryResult extends HistoryGenStats {
  path: string;
  plainMd5: string;
  gzipBytes: number;
  gzipMd5: string;
}

const CHUNK = 64 * 1024;

const PHRASES = [
  "你好",
  "在吗？",
  "今天天气真好☀️",
  "晚上一起吃饭吧🍜",
  "收到，马上处理",
  "哈哈哈哈😂😂",
  "这个方案我觉得可以👍",
  "明天上午十点开会，别忘了",
  "图片已经发给你了",
  "好的，谢谢！🙏",
  "周末去爬山吗⛰️",
  "我在路上了🚗，大概二十分钟到",
  "ok",
  "see you tomorrow",
  "生日快乐🎂🎉",
  "这个价格有点贵，能便宜点吗？",
  "已转账💰",
  "稍等一下",
  "👨‍👩‍👧‍👦家庭聚会",
  "「引用」这个问题我们下周再讨论。",
];
const FILE_NAMES = [
  "报告.pdf",
  "合同-最终版.docx",
  "照片.zip",
  "季度数据.xlsx",
  "notes.txt",
  "演示文稿.pptx",
];

/** mulberry32: small, fast, and good enough for test data. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Unix seconds of the start of a Beijing (UTC+8) hour given as YYYYMMDDHH. */
function hourStart(msgTime: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})$/.exec(msgTime);
  if (!m) throw new Error(`msgTime must be YYYYMMDDHH, got ${msgTime}`);
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]) - 8) / 1000;
}

interface Ctx {
  rnd: () => number;
  origin: string;
  appId: number;
  media: number;
}

function int(rnd: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rnd() * (hi - lo + 1));
}
function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)]!;
}
function hex(rnd: () => number, n: number): string {
  let s = "";
  while (s.length < n)
    s += Math.floor(rnd() * 0x100000000)
      .toString(16)
      .padStart(8, "0");
  return s.slice(0, n);
}
function mediaUrl(c: Ctx, ext: string): string {
  c.media++;
  return `${c.origin}/98ec-shanghai-007-privatev2-01-1256635546/0345-${c.appId}/0612-${hex(c.rnd, 4)}/${hex(c.rnd, 32)}.${ext}`;
}

function text(c: Ctx): string {
  const n = int(c.rnd, 1, 4);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(pick(c.rnd, PHRASES));
  return parts.join("，");
}

function elem(c: Ctx): Record<string, unknown> {
  const r = c.rnd();
  if (r < 0.6) return { MsgType: "TIMTextElem", MsgContent: { Text: text(c) } };
  if (r < 0.72) {
    const uuid = `${c.appId}_${hex(c.rnd, 32).toUpperCase()}`;
    const w = int(c.rnd, 640, 4096);
    const h = int(c.rnd, 480, 4096);
    return {
      MsgType: "TIMImageElem",
      MsgContent: {
        UUID: uuid,
        ImageFormat: int(c.rnd, 1, 4),
        ImageInfoArray: [
          { Type: 1, Size: int(c.rnd, 200_000, 5_000_000), Width: w, Height: h, URL: mediaUrl(c, "jpg") },
          { Type: 2, Size: int(c.rnd, 50_000, 300_000), Width: 720, Height: 1280, URL: mediaUrl(c, "jpg") },
          { Type: 3, Size: int(c.rnd, 5_000, 30_000), Width: 198, Height: 352, URL: mediaUrl(c, "jpg") },
        ],
      },
    };
  }
  if (r < 0.8) {
    return {
      MsgType: "TIMSoundElem",
      MsgContent: {
        Url: mediaUrl(c, "m4a"),
        UUID: `5_2_${hex(c.rnd, 32)}`,
        Size: int(c.rnd, 2_000, 200_000),
        Second: int(c.rnd, 1, 60),
        Download_Flag: 2,
      },
    };
  }
  if (r < 0.86) {
    return {
      MsgType: "TIMFileElem",
      MsgContent: {
        Url: mediaUrl(c, "bin"),
        UUID: `6_2_${hex(c.rnd, 32)}`,
        FileSize: int(c.rnd, 1_000, 50_000_000),
        FileName: pick(c.rnd, FILE_NAMES),
        Download_Flag: 2,
      },
    };
  }
  if (r < 0.91) {
    return {
      MsgType: "TIMVideoFileElem",
      MsgContent: {
        VideoUrl: mediaUrl(c, "mp4"),
        VideoUUID: `7_2_${hex(c.rnd, 32)}`,
        VideoSize: int(c.rnd, 100_000, 100_000_000),
        VideoSecond: int(c.rnd, 1, 300),
        VideoFormat: "mp4",
        VideoDownloadFlag: 2,
        ThumbUrl: mediaUrl(c, "jpg"),
        ThumbUUID: `8_2_${hex(c.rnd, 32)}`,
        ThumbSize: int(c.rnd, 5_000, 60_000),
        ThumbWidth: 720,
        ThumbHeight: 1280,
        ThumbFormat: "JPG",
        ThumbDownloadFlag: 2,
      },
    };
  }
  if (r < 0.97) {
    return {
      MsgType: "TIMCustomElem",
      MsgContent: {
        Data: JSON.stringify({ businessID: "order", orderId: hex(c.rnd, 12), title: "订单已发货📦" }),
        Desc: "notification",
        Ext: "",
        Sound: "",
      },
    };
  }
  return { MsgType: "TIMFaceElem", MsgContent: { Index: int(c.rnd, 0, 100), Data: "[微笑]" } };
}

/**
 * The plain (uncompressed) bytes of a history file, in ~64 KiB chunks. The generator's return value
 * (visible to a manual `next()` loop, or via {@link writeGzipHistory}) is the file's stats.
 */
export function* generateHistory(options: HistoryGenOptions = {}): Generator<Buffer, HistoryGenStats> {
  const appId = options.sdkAppId ?? 1400187352;
  const chatType = options.chatType ?? "C2C";
  const msgTime = options.msgTime ?? "2015120121";
  const c: Ctx = {
    rnd: prng(options.seed ?? 1),
    origin: options.mediaOrigin ?? "https://cos.ap-shanghai.myqcloud.com",
    appId,
    media: 0,
  };
  const t0 = hourStart(msgTime);
  const generated = Array.from({ length: 500 }, (_, i) => `user_${i}_${hex(c.rnd, 6)}`);
  const users = options.users ?? generated;
  const generatedGroups = Array.from({ length: 50 }, () => `@TGS#${hex(c.rnd, 10).toUpperCase()}`);
  const groups = options.groups ?? generatedGroups;

  const header = `${JSON.stringify({ SdkAppId: appId, ChatType: chatType, MsgTime: msgTime }).slice(0, -1)},"MsgList":[\n`;
  let parts: string[] = [header];
  let partBytes = Buffer.byteLength(header);
  let plainBytes = 0;
  let messages = 0;
  let seq = int(c.rnd, 1, 1_000_000);
  const { messages: exact, targetBytes } = options;
  const progress = (): number =>
    exact !== undefined
      ? messages / Math.max(exact, 1)
      : targetBytes !== undefined
        ? (plainBytes + partBytes) / targetBytes
        : messages / 1000;
  let pendingLine: string | undefined;

  const flush = (): Buffer => {
    const buf = Buffer.from(parts.join(""), "utf8");
    plainBytes += buf.length;
    parts = [];
    partBytes = 0;
    return buf;
  };

  const enough = (): boolean =>
    exact !== undefined
      ? messages >= exact
      : targetBytes !== undefined
        ? messages > 0 && plainBytes + partBytes >= targetBytes
        : messages >= 1000;

  while (!enough()) {
    if (pendingLine !== undefined) {
      parts.push(`${pendingLine},\n`);
      partBytes += Buffer.byteLength(pendingLine) + 2;
    }
    const ts = t0 + Math.min(3599, Math.floor(3600 * progress()));
    const from = pick(c.rnd, users);
    const msg: Record<string, unknown> =
      chatType === "C2C"
        ? {
            From_Account: from,
            To_Account: pick(c.rnd, users),
            MsgTimestamp: ts,
            MsgSeq: seq++,
            MsgRandom: int(c.rnd, 0, 0x7fffffff),
          }
        : { From_Account: from, GroupId: pick(c.rnd, groups), MsgTimestamp: ts, MsgSeq: seq++ };
    const body = [elem(c)];
    if (c.rnd() < 0.03) body.push(elem(c));
    msg.MsgBody = body;
    if (c.rnd() < 0.02) msg.CloudCustomData = JSON.stringify({ source: "app", v: int(c.rnd, 1, 9) });
    pendingLine = JSON.stringify(msg);
    messages++;
    if (partBytes >= CHUNK) yield flush();
  }
  // The last message has no comma; Tencent's example leaves a space before its newline.
  if (pendingLine !== undefined) parts.push(`${pendingLine} \n`);
  parts.push("]}\n");
  yield flush();
  return { messages, plainBytes, mediaUrls: c.media };
}

/**
 * Streams a generated history file through GZip into `path` (never whole in memory) and reports
 * sizes and MD5s the way get_history advertises them (FileSize/FileMD5, GzipSize/GzipMD5).
 */
export async function writeGzipHistory(
  path: string,
  options: HistoryGenOptions & { level?: number } = {},
): Promise<GzipHistoryResult> {
  const plainMd5 = createHash("md5");
  const gzipMd5 = createHash("md5");
  let gzipBytes = 0;
  let stats: HistoryGenStats | undefined;
  const gen = generateHistory(options);
  const source = Readable.from(
    (function* () {
      for (;;) {
        const r = gen.next();
        if (r.done) {
          stats = r.value;
          return;
        }
        plainMd5.update(r.value);
        yield r.value;
      }
    })(),
  );
  await pipeline(
    source,
    createGzip({ level: options.level ?? 6 }),
    async function* (gz: AsyncIterable<Buffer>) {
      for await (const chunk of gz) {
        gzipMd5.update(chunk);
        gzipBytes += chunk.length;
        yield chunk;
      }
    },
    createWriteStream(path),
  );
  return {
    ...stats!,
    path,
    plainMd5: plainMd5.digest("hex"),
    gzipBytes,
    gzipMd5: gzipMd5.digest("hex"),
  };
}
