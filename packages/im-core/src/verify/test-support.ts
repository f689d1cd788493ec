/** History files for the verifier's tests, laid out as Tencent documents them, and their figures. */
import { createHash } from "node:crypto";
import { Writable } from "node:stream";
import { gzipSync } from "node:zlib";
import type { ExpectedFigures } from "./verifier.ts";

export const HEADER = '{"SdkAppId":1400000001,"ChatType":"Group","MsgTime":"2024061514","MsgList":[';

/** Message `i` as one line of JSON (multi-byte text included). */
export function message(i: number): string {
  return JSON.stringify({
    From_Account: `user_${i}`,
    GroupId: "@TGS#2ABCDEFGH",
    MsgTimestamp: 1718431200 + i,
    MsgSeq: i,
    MsgRandom: (i * 2654435761) >>> 0,
    MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: `第${i}条消息 😀 ${"x".repeat(i % 17)}` } }],
  });
}

/** The documented layout: header, one message a line (commas but the last), `]}`. */
export function historyText(count: number): string {
  const lines = [HEADER];
  for (let i = 0; i < count; i++) lines.push(message(i) + (i < count - 1 ? "," : ""));
  lines.push("]}");
  return `${lines.join("\n")}\n`;
}

/** `data` in pieces of `size` bytes (views, not copies). */
export function chunks(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

export function md5(data: Buffer): string {
  return createHash("md5").update(data).digest("hex");
}

export function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** The SHA-256s the verifier reports besides Tencent's figures (a manifest's gzipSha256, fileSha256). */
export function sha256sOf(gzip: Buffer, plain: Buffer): { gzipSha256: string; fileSha256: string } {
  return { gzipSha256: sha256(gzip), fileSha256: sha256(plain) };
}

export function figuresOf(gzip: Buffer, plain: Buffer): ExpectedFigures {
  return { gzipSize: gzip.length, gzipMd5: md5(gzip), fileSize: plain.length, fileMd5: md5(plain) };
}

/** `plainText` gzipped (level 6), with its figures. */
export function file(plainText: string): { gzip: Buffer; plain: Buffer; expected: ExpectedFigures } {
  const plain = Buffer.from(plainText);
  const gzip = gzipSync(plain, { level: 6 });
  return { gzip, plain, expected: figuresOf(gzip, plain) };
}

/** A sink that keeps what it is given. */
export function collector(): { sink: Writable; bytes: () => Buffer } {
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      parts.push(chunk);
      cb();
    },
  });
  return { sink, bytes: () => Buffer.concat(parts) };
}
