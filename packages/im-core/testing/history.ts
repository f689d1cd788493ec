/** Factories shared by archive unit tests: small real history files and a fake download server. */
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import type { ChatType, HistoryFile } from "../src/im/types.ts";
import { formatBeijing, type MsgTime } from "../src/time/msgtime.ts";
import type { Clock } from "../src/util/clock.ts";

export interface FakeFile {
  history: HistoryFile;
  gz: Buffer;
  plain: Buffer;
  messages: number;
}

const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");

/** A history file in Tencent's layout with `messages` messages, served at `url`. */
export function makeHistoryFile(
  chatType: ChatType,
  msgTime: MsgTime,
  messages: number,
  url: string,
  expiresAtMs: number,
): FakeFile {
  const lines = [`{"SdkAppId":1400000000,"ChatType":"${chatType}","MsgTime":"${msgTime}","MsgList":[`];
  for (let i = 0; i < messages; i++) {
    const last = i === messages - 1;
    lines.push(
      `{"From_Account":"u${i}","To_Account":"v${i}","MsgTimestamp":${1_700_000_000 + i},"MsgSeq":${i},"MsgRandom":${i * 7},"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"你好 ${i} 🎉"}}]}${last ? "" : ","}`,
    );
  }
  lines.push("]}");
  const plain = Buffer.from(`${lines.join("\n")}\n`, "utf8");
  const gz = gzipSync(plain);
  return {
    gz,
    plain,
    messages,
    history: {
      url,
      expiresAt: new Date(expiresAtMs),
      expireTimeText: formatBeijing(expiresAtMs),
      fileSize: plain.length,
      fileMd5: md5(plain),
      gzipSize: gz.length,
      gzipMd5: md5(gz),
    },
  };
}

/** A clock whose sleeps return at once and move time forward. */
export function fakeClock(startMs: number): Clock & { advance(ms: number): void } {
  let now = startMs;
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
    advance(ms) {
      now += ms;
    },
  };
}

/** A fetch that answers from a table of URL → handler. */
export function fakeFetch(
  routes: Map<string, (attempt: number) => Response>,
): typeof fetch & { calls: string[] } {
  const counts = new Map<string, number>();
  const calls: string[] = [];
  const f = (async (input: string | URL | Request) => {
    const url = String(input instanceof Request ? input.url : input);
    calls.push(url);
    const n = (counts.get(url) ?? 0) + 1;
    counts.set(url, n);
    const handler = routes.get(url);
    if (handler === undefined) return new Response("not found", { status: 404 });
    return handler(n);
  }) as typeof fetch & { calls: string[] };
  f.calls = calls;
  return f;
}
