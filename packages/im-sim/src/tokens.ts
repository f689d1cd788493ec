import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Signed, self-contained download tokens: the URL carries everything needed to regenerate the file
 * and its expiry, so the simulator keeps no per-URL state. Tampered or malformed tokens fail to open.
 */

export interface FileToken {
  sdkAppId: number;
  chatType: string;
  msgTime: string;
  fileIndex: number;
  firstMessage: number;
  messageCount: number;
  gzipSize: number;
  /** Unix seconds; the URL works while now < expires. */
  expires: number;
}

const b64url = (b: Buffer) => b.toString("base64url");

function mac(key: string, payload: string): Buffer {
  return createHmac("sha256", key).update(payload).digest().subarray(0, 16);
}

export function sealFileToken(key: string, t: FileToken): string {
  const payload = b64url(
    Buffer.from(
      [
        t.sdkAppId,
        t.chatType,
        t.msgTime,
        t.fileIndex,
        t.firstMessage,
        t.messageCount,
        t.gzipSize,
        t.expires,
      ].join("."),
    ),
  );
  return `${payload}.${b64url(mac(key, payload))}`;
}

export function openFileToken(key: string, token: string): FileToken | undefined {
  const [payload, sig, extra] = token.split(".");
  if (payload === undefined || sig === undefined || extra !== undefined) return undefined;
  const want = mac(key, payload);
  const got = Buffer.from(sig, "base64url");
  if (got.length !== want.length || !timingSafeEqual(got, want)) return undefined;
  const parts = Buffer.from(payload, "base64url").toString("utf8").split(".");
  if (parts.length !== 8) return undefined;
  const [app, chatType, msgTime, ...nums] = parts as [string, string, string, ...string[]];
  const [fileIndex, firstMessage, messageCount, gzipSize, expires] = nums.map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  return {
    sdkAppId: Number(app),
    chatType,
    msgTime,
    fileIndex,
    firstMessage,
    messageCount,
    gzipSize,
    expires,
  };
}

/** The `sign` of a PreSigURL: an HMAC over the object path and its expiry. */
export function mediaSign(key: string, objectPath: string, expires: number): string {
  return createHmac("sha256", key).update(`${objectPath}|${expires}`).digest("hex").slice(0, 32);
}

export function mediaSignValid(key: string, objectPath: string, expires: number, sign: string): boolean {
  const want = Buffer.from(mediaSign(key, objectPath, expires));
  const got = Buffer.from(sign);
  return got.length === want.length && timingSafeEqual(got, want);
}
