/**
 * Test doubles for media capture: archived hours whose messages carry media URLs, and a fake COS that
 * answers get_cos_sig and serves PreSigURLs on a clock, counting what it was asked.
 */
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { rawKey } from "../src/archive/layout.ts";
import { writeManifest } from "../src/archive/manifest.ts";
import type { ChatType, CosSigRequestItem, CosSigResult } from "../src/im/types.ts";
import type { ArchiveStore } from "../src/store/port.ts";
import type { MsgTime } from "../src/time/msgtime.ts";
import type { Clock } from "../src/util/clock.ts";

const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");
export const sha256Hex = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

/** Message bodies with media elements as Tencent writes them. */
export const elem = {
  image: (...urls: string[]) => ({
    MsgType: "TIMImageElem",
    MsgContent: {
      UUID: "img",
      ImageFormat: 1,
      ImageInfoArray: urls.map((URL, i) => ({ Type: i + 1, Size: 100, Width: 10, Height: 10, URL })),
    },
  }),
  sound: (Url: string) => ({ MsgType: "TIMSoundElem", MsgContent: { Url, UUID: "s", Size: 1, Second: 1 } }),
  file: (Url: string) => ({
    MsgType: "TIMFileElem",
    MsgContent: { Url, UUID: "f", FileSize: 1, FileName: "a" },
  }),
  video: (VideoUrl: string, ThumbUrl: string) => ({
    MsgType: "TIMVideoFileElem",
    MsgContent: { VideoUrl, ThumbUrl, VideoUUID: "v", ThumbUUID: "t", VideoSize: 1, ThumbSize: 1 },
  }),
  text: (Text: string) => ({ MsgType: "TIMTextElem", MsgContent: { Text } }),
};

/**
 * Stores an archived hour: one raw history file holding a message per body, and its manifest, as
 * archiveHour would have left them.
 */
export async function storeArchivedHour(
  store: ArchiveStore,
  chatType: ChatType,
  msgTime: MsgTime,
  bodies: readonly unknown[][],
): Promise<void> {
  const lines = [`{"SdkAppId":1400000000,"ChatType":"${chatType}","MsgTime":"${msgTime}","MsgList":[`];
  bodies.forEach((body, i) => {
    const message = {
      From_Account: `u${i}`,
      To_Account: "v",
      MsgTimestamp: 1_700_000_000 + i,
      MsgSeq: i,
      MsgBody: body,
    };
    lines.push(`${JSON.stringify(message)}${i === bodies.length - 1 ? "" : ","}`);
  });
  lines.push("]}");
  const plain = Buffer.from(`${lines.join("\n")}\n`, "utf8");
  const gz = gzipSync(plain);
  const key = rawKey(chatType, msgTime, `1400000000_${chatType}_${msgTime}.gz`);
  await store.put(key, gz);
  await writeManifest(store, {
    version: 1,
    chatType,
    msgTime,
    status: bodies.length === 0 ? "empty" : "archived",
    files:
      bodies.length === 0
        ? []
        : [
            {
              key,
              sourceUrl: `https://download.tim.qq.com/${chatType}/${msgTime}.gz`,
              gzipSize: gz.length,
              gzipMd5: md5(gz),
              fileSize: plain.length,
              fileMd5: md5(plain),
              messageCount: bodies.length,
            },
          ],
    archivedAt: new Date(0).toISOString(),
  });
}

/** What a fake download answers instead of the object's bytes, once. */
export type CosFault =
  | { kind: "status"; status: number }
  /** Content-Length says `declared` while `body` bytes are sent. */
  | { kind: "short"; declared: number }
  /** The response is held until `release` resolves, then served normally. */
  | { kind: "hold"; release: Promise<void> }
  /** Something happens just before the object is served (e.g. another worker stores it). */
  | { kind: "before"; run: () => Promise<void> }
  /** A few bytes are sent, then nothing more, ever. */
  | { kind: "stall" };

export interface FakeObject {
  /** The bytes, or a fresh stream of them for each download (big objects). */
  body: Buffer | (() => ReadableStream<Uint8Array>);
  size: number;
  status?: 0 | 1 | 2;
  /** A per-item error Code from get_cos_sig (then no PreSigURL). */
  code?: number;
  contentType?: string;
}

const PRESIGN_TTL_MS = 15 * 60_000;

/**
 * A fake COS and get_cos_sig. Objects are keyed by the RawURL without its query. PreSigURLs point at
 * `presignOrigin` + the RawURL's path, carry a serial `sign` and expire after `ttlMs` on `clock`;
 * downloads of an expired one answer 403. Counts: `signCalls` (items of each get_cos_sig request),
 * `downloads` (path of every download request), `inFlight`/`maxInFlight` (open downloads).
 */
export class FakeCos {
  readonly objects = new Map<string, FakeObject>();
  readonly faults = new Map<string, CosFault[]>();
  readonly signCalls: CosSigRequestItem[][] = [];
  readonly downloads: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** PreSigURL lifetime of the next answers. */
  ttlMs = PRESIGN_TTL_MS;
  /** Origin of the PreSigURLs (must be on the download hosts to be fetched). */
  presignOrigin = "https://cos.ap-shanghai.myqcloud.com";
  #serial = 0;
  readonly #valid = new Map<string, number>();

  readonly clock: Clock;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  add(rawUrl: string, object: Partial<FakeObject> & { body: FakeObject["body"] }): void {
    const size = Buffer.isBuffer(object.body) ? object.body.length : (object.size ?? 0);
    this.objects.set(withoutQuery(rawUrl), { ...object, size });
  }

  /** Queues faults for the next downloads of a RawURL's object, in order. */
  fault(rawUrl: string, ...faults: CosFault[]): void {
    const path = new URL(rawUrl).pathname;
    this.faults.set(path, [...(this.faults.get(path) ?? []), ...faults]);
  }

  getCosSig = async (items: CosSigRequestItem[]): Promise<CosSigResult[]> => {
    this.signCalls.push(items);
    return items.map(({ ResourceID, RawURL }) => {
      const object = this.objects.get(withoutQuery(RawURL));
      const expiresAt = this.clock.now() + this.ttlMs;
      const status = object === undefined ? 2 : (object.status ?? 0);
      const code = object?.code ?? 0;
      let preSigUrl = "";
      if (code === 0) {
        const sign = String(++this.#serial);
        this.#valid.set(sign, expiresAt);
        preSigUrl = `${this.presignOrigin}${new URL(RawURL).pathname}?sign=${sign}&im-time-expired=${Math.floor(expiresAt / 1000)}`;
      }
      return {
        ResourceID,
        Code: code,
        Desc: code === 0 ? "" : "not an IM SDK file",
        PreSigURL: preSigUrl,
        Status: status,
        StatusText: (["normal", "banned", "missing"] as const)[status] ?? "unknown",
        ExpiresAt: new Date(expiresAt).toISOString(),
      };
    });
  };

  fetch = (async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    this.downloads.push(url.pathname);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    let open = true;
    const done = () => {
      if (open) this.inFlight--;
      open = false;
    };
    try {
      const fault = this.faults.get(url.pathname)?.shift();
      if (fault?.kind === "hold") await fault.release;
      if (fault?.kind === "before") await fault.run();
      init?.signal?.throwIfAborted();
      const expiresAt = this.#valid.get(url.searchParams.get("sign") ?? "");
      if (expiresAt === undefined || this.clock.now() >= expiresAt) {
        done();
        return new Response("<Error><Code>AccessDenied</Code></Error>", { status: 403 });
      }
      if (fault?.kind === "status") {
        done();
        return new Response("fault", { status: fault.status });
      }
      const object = [...this.objects.entries()].find(([raw]) => new URL(raw).pathname === url.pathname)?.[1];
      if (object === undefined || object.status === 2) {
        done();
        return new Response("<Error><Code>NoSuchKey</Code></Error>", { status: 404 });
      }
      if (fault?.kind === "stall") {
        return new Response(
          new ReadableStream({
            start(controller) {
              controller.enqueue(new Uint8Array(16));
            },
            cancel: done,
          }),
          { status: 200, headers: { "content-length": String(object.size) } },
        );
      }
      const length = fault?.kind === "short" ? fault.declared : object.size;
      const source = Buffer.isBuffer(object.body) ? bufferStream(object.body) : object.body();
      return new Response(source.pipeThrough(onEnd(done)), {
        status: 200,
        headers: {
          "content-length": String(length),
          ...(object.contentType === undefined ? {} : { "content-type": object.contentType }),
        },
      });
    } catch (err) {
      done();
      throw err;
    }
  }) as typeof fetch;

  /** Downloads asked for the object of `rawUrl`. */
  downloadsOf(rawUrl: string): number {
    const path = new URL(rawUrl).pathname;
    return this.downloads.filter((p) => p === path).length;
  }

  /** Every RawURL get_cos_sig was asked about, over all calls. */
  get signedUrls(): string[] {
    return this.signCalls.flat().map((i) => i.RawURL);
  }
}

function withoutQuery(raw: string): string {
  const u = new URL(raw);
  return `${u.origin}${u.pathname}`;
}

function bufferStream(body: Buffer): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(new Uint8Array(body));
      controller.close();
    },
  });
}

/** Passes chunks on and calls `done` when the body ends, errors or is cancelled. */
function onEnd(done: () => void): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream({
    flush() {
      done();
    },
    transform(chunk, controller) {
      controller.enqueue(chunk);
    },
  });
}

/**
 * A stream of `size` pseudo-random bytes made `chunkSize` at a time as they are read (never all in
 * memory), how many it has made so far, and the SHA-256 of what it produced once it ended.
 */
export function generatedBody(
  size: number,
  chunkSize = 1 << 20,
): { stream: ReadableStream<Uint8Array>; sha256: () => string; produced: () => number } {
  const hash = createHash("sha256");
  let sent = 0;
  let state = 0x9e3779b9;
  let digest: string | undefined;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const n = Math.min(chunkSize, size - sent);
      if (n <= 0) {
        digest = hash.digest("hex");
        controller.close();
        return;
      }
      const words = new Uint32Array(Math.ceil(n / 4));
      for (let i = 0; i < words.length; i++) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        words[i] = state >>> 0;
      }
      const bytes = new Uint8Array(words.buffer, 0, n);
      hash.update(bytes);
      sent += n;
      controller.enqueue(bytes);
    },
  });
  return {
    stream,
    produced: () => sent,
    sha256: () => {
      if (digest === undefined) throw new Error("the body has not been read to its end");
      return digest;
    },
  };
}

/** Counts by metric name. */
export function countingMetrics(): {
  count(name: string, value?: number): void;
  counts: Map<string, number>;
} {
  const counts = new Map<string, number>();
  return {
    counts,
    count(name, value = 1) {
      counts.set(name, (counts.get(name) ?? 0) + value);
    },
  };
}
