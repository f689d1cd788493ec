/**
 * Writes a realistic Tencent IM history file for benchmarks: the documented line layout, messages
 * with Chinese and emoji text and rich-media elements carrying COS URLs, GZip level 6. Everything is
 * streamed to disk (never whole in memory) and the four get_history figures are measured on the way.
 */
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { Readable, Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";

export interface GeneratedFile {
  gzipSize: number;
  gzipMd5: string;
  fileSize: number;
  fileMd5: string;
  messageCount: number;
}

/** Deterministic PRNG (mulberry32) so that a size always yields the same file. */
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

const PHRASES = [
  "你好",
  "在吗",
  "今天天气不错",
  "晚上一起吃饭吧",
  "收到，马上处理",
  "这个方案我觉得可以",
  "明天上午十点开会",
  "图片已经发给你了",
  "哈哈哈哈",
  "好的谢谢",
  "辛苦了",
  "我们周末去爬山吗",
  "文件太大了发不过去",
  "请查收附件",
  "老板说下周上线",
  "刚下班，路上有点堵",
  "这个价格还能再便宜点吗",
  "已付款，请尽快发货",
  "生日快乐！",
  "新年快乐，万事如意",
  "ok",
  "see you tomorrow",
  "lol that's great",
  "Can you send me the link?",
  "稍等一下",
  "没问题",
  "我在地铁上",
  "快递到了吗",
  "明白了",
  "晚安",
];
const EMOJI = [
  "😀",
  "😂",
  "👍",
  "🎉",
  "❤️",
  "🙏",
  "😭",
  "🔥",
  "🤔",
  "👌",
  "🌹",
  "😅",
  "[微笑]",
  "[捂脸]",
  "[强]",
];
const REGIONS = ["ap-shanghai", "ap-guangzhou", "ap-beijing", "ap-singapore"];

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]!;
}

function hex(rand: () => number, length: number): string {
  let out = "";
  while (out.length < length)
    out += Math.floor(rand() * 0x100000000)
      .toString(16)
      .padStart(8, "0");
  return out.slice(0, length);
}

function cosUrl(rand: () => number, sdkAppId: number, kind: string, ext: string): string {
  const region = pick(rand, REGIONS);
  return `https://cos.${region}.myqcloud.com/${hex(rand, 8)}/imfiles/${sdkAppId}/${kind}/${hex(rand, 32)}.${ext}`;
}

function text(rand: () => number): string {
  let out = "";
  const parts = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < parts; i++) {
    out += pick(rand, PHRASES);
    if (rand() < 0.35) out += pick(rand, EMOJI);
    if (rand() < 0.3) out += "，";
  }
  return out;
}

function element(rand: () => number, sdkAppId: number): unknown {
  const r = rand();
  if (r < 0.7) return { MsgType: "TIMTextElem", MsgContent: { Text: text(rand) } };
  if (r < 0.85) {
    const uuid = hex(rand, 32);
    const url = cosUrl(rand, sdkAppId, "image", "jpg");
    return {
      MsgType: "TIMImageElem",
      MsgContent: {
        UUID: uuid,
        ImageFormat: 1,
        ImageInfoArray: [1, 2, 3].map((type) => ({
          Type: type,
          Size: Math.floor(rand() * 2_000_000),
          Width: 1080 >> (type - 1),
          Height: 1920 >> (type - 1),
          URL: type === 1 ? url : `${url}?imageView2/3/w/${1080 >> (type - 1)}`,
        })),
      },
    };
  }
  if (r < 0.9) {
    return {
      MsgType: "TIMSoundElem",
      MsgContent: {
        Url: cosUrl(rand, sdkAppId, "sound", "m4a"),
        UUID: hex(rand, 32),
        Size: Math.floor(rand() * 200_000),
        Second: 1 + Math.floor(rand() * 60),
        Download_Flag: 2,
      },
    };
  }
  if (r < 0.95) {
    return {
      MsgType: "TIMFileElem",
      MsgContent: {
        Url: cosUrl(rand, sdkAppId, "file", "pdf"),
        UUID: hex(rand, 32),
        FileSize: Math.floor(rand() * 10_000_000),
        FileName: `${pick(rand, ["合同", "报价单", "会议纪要", "report"])}_${hex(rand, 4)}.pdf`,
        Download_Flag: 2,
      },
    };
  }
  return {
    MsgType: "TIMVideoFileElem",
    MsgContent: {
      VideoUrl: cosUrl(rand, sdkAppId, "video", "mp4"),
      VideoUUID: hex(rand, 32),
      VideoSize: Math.floor(rand() * 50_000_000),
      VideoSecond: 1 + Math.floor(rand() * 300),
      VideoFormat: "mp4",
      VideoDownloadFlag: 2,
      ThumbUrl: cosUrl(rand, sdkAppId, "thumb", "jpg"),
      ThumbUUID: hex(rand, 32),
      ThumbSize: Math.floor(rand() * 100_000),
      ThumbWidth: 360,
      ThumbHeight: 640,
      ThumbFormat: "JPG",
      ThumbDownloadFlag: 2,
    },
  };
}

/** The plain lines of a file of about `plainBytes`, in ~1 MiB string batches. */
async function* lines(
  plainBytes: number,
  seed: number,
  counter: { messages: number },
): AsyncGenerator<string> {
  const rand = prng(seed);
  const sdkAppId = 1400000000 + Math.floor(rand() * 1_000_000);
  const msgTime = "2024061514";
  const chatType = "Group";
  yield `{"SdkAppId":${sdkAppId},"ChatType":"${chatType}","MsgTime":"${msgTime}","MsgList":[\n`;
  const groups = Array.from({ length: 50 }, () => `@TGS#${hex(rand, 9).toUpperCase()}`);
  let written = 0;
  let batch = "";
  let ts = 1718431200;
  let seq = 1;
  let pendingLine = "";
  while (written < plainBytes) {
    const body = [element(rand, sdkAppId)];
    if (rand() < 0.05) body.push(element(rand, sdkAppId));
    const message = {
      From_Account: `user_${Math.floor(rand() * 100_000)}`,
      GroupId: pick(rand, groups),
      MsgTimestamp: ts,
      MsgSeq: seq++,
      MsgRandom: Math.floor(rand() * 4294967296),
      MsgBody: body,
    };
    if (rand() < 0.02) ts++;
    if (pendingLine) {
      batch += `${pendingLine},\n`;
      written += Buffer.byteLength(pendingLine) + 2;
    }
    pendingLine = JSON.stringify(message);
    counter.messages++;
    if (batch.length >= 512 * 1024) {
      yield batch;
      batch = "";
    }
  }
  yield `${batch}${pendingLine}\n]}\n`;
}

/** A pass-through that counts and MD5s what flows through it. */
class Measure extends Transform {
  readonly hash = createHash("md5");
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    cb(null, chunk);
  }
}

/**
 * Writes `gzPath` (and the plain bytes to `plainPath` when given, for MD5-only baselines) and
 * returns the file's figures.
 */
export async function generateHistoryFile(
  gzPath: string,
  options: { plainBytes: number; seed?: number; plainPath?: string },
): Promise<GeneratedFile> {
  const counter = { messages: 0 };
  const plain = new Measure();
  const gzip = new Measure();
  const source = Readable.from(lines(options.plainBytes, options.seed ?? 1, counter), { objectMode: false });
  const plainCopy = options.plainPath ? createWriteStream(options.plainPath) : undefined;
  if (plainCopy) plain.pipe(plainCopy);
  await Promise.all([
    pipeline(source, plain, createGzip({ level: 6 }), gzip, createWriteStream(gzPath)),
    plainCopy
      ? new Promise<void>((resolve, reject) => plainCopy.on("close", () => resolve()).on("error", reject))
      : undefined,
  ]);
  return {
    gzipSize: gzip.bytes,
    gzipMd5: gzip.hash.digest("hex"),
    fileSize: plain.bytes,
    fileMd5: plain.hash.digest("hex"),
    messageCount: counter.messages,
  };
}
