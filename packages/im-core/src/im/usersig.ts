import { createHmac, timingSafeEqual } from "node:crypto";
import { deflateSync, inflateSync } from "node:zlib";
import { UserSigError } from "../errors.ts";

/**
 * TLSSigAPIv2 UserSig: HMAC-SHA256 over a newline-terminated field list, a JSON document, zlib
 * (RFC 1950), then base64 with Tencent's URL-safe substitutions (+ → *, / → -, = → _).
 */
export interface UserSigParams {
  sdkAppId: number;
  identifier: string;
  secretKey: string;
  /** Validity in seconds. */
  expireSeconds: number;
  /** Unix seconds the sig is issued at. */
  issuedAt: number;
  userbuf?: Buffer | undefined;
}

export interface UserSigDocument {
  "TLS.ver": string;
  "TLS.identifier": string;
  "TLS.sdkappid": number;
  "TLS.expire": number;
  "TLS.time": number;
  "TLS.sig": string;
  "TLS.userbuf"?: string;
}

function hmacBase64(
  secretKey: string,
  identifier: string,
  sdkAppId: number,
  time: number,
  expire: number,
  userbufBase64?: string,
): string {
  let content =
    `TLS.identifier:${identifier}\n` +
    `TLS.sdkappid:${sdkAppId}\n` +
    `TLS.time:${time}\n` +
    `TLS.expire:${expire}\n`;
  if (userbufBase64 !== undefined) content += `TLS.userbuf:${userbufBase64}\n`;
  return createHmac("sha256", Buffer.from(secretKey, "utf8")).update(content, "utf8").digest("base64");
}

function urlSafeEncode(buf: Buffer): string {
  return buf.toString("base64").replace(/\+/g, "*").replace(/\//g, "-").replace(/=/g, "_");
}

function urlSafeDecode(text: string): Buffer {
  return Buffer.from(text.replace(/\*/g, "+").replace(/-/g, "/").replace(/_/g, "="), "base64");
}

export function genUserSig(p: UserSigParams): string {
  const userbufBase64 = p.userbuf === undefined ? undefined : p.userbuf.toString("base64");
  const doc: UserSigDocument = {
    "TLS.ver": "2.0",
    "TLS.identifier": p.identifier,
    "TLS.sdkappid": p.sdkAppId,
    "TLS.expire": p.expireSeconds,
    "TLS.time": p.issuedAt,
    "TLS.sig": hmacBase64(p.secretKey, p.identifier, p.sdkAppId, p.issuedAt, p.expireSeconds, userbufBase64),
  };
  if (userbufBase64 !== undefined) doc["TLS.userbuf"] = userbufBase64;
  return urlSafeEncode(deflateSync(Buffer.from(JSON.stringify(doc), "utf8")));
}

/** Decodes a UserSig without checking it. Throws UserSigError("malformed") if it cannot be read. */
export function decodeUserSig(sig: string): UserSigDocument {
  let doc: unknown;
  try {
    doc = JSON.parse(inflateSync(urlSafeDecode(sig)).toString("utf8"));
  } catch {
    throw new UserSigError("malformed", "UserSig could not be decoded");
  }
  const d = doc as Partial<UserSigDocument> | null;
  if (
    d === null ||
    typeof d !== "object" ||
    typeof d["TLS.identifier"] !== "string" ||
    typeof d["TLS.sdkappid"] !== "number" ||
    typeof d["TLS.expire"] !== "number" ||
    typeof d["TLS.time"] !== "number" ||
    typeof d["TLS.sig"] !== "string" ||
    (d["TLS.userbuf"] !== undefined && typeof d["TLS.userbuf"] !== "string")
  ) {
    throw new UserSigError("malformed", "UserSig document is missing fields");
  }
  return d as UserSigDocument;
}

export interface VerifyUserSigParams {
  sig: string;
  sdkAppId: number;
  identifier: string;
  secretKey: string;
  /** Unix seconds. */
  now: number;
}

/**
 * Checks a UserSig the way Tencent does: readable, issued for this identifier and app, signed with
 * this key, and not expired (expired when now > time + expire). Each failure is a distinct reason.
 */
export function verifyUserSig(p: VerifyUserSigParams): UserSigDocument {
  const doc = decodeUserSig(p.sig);
  if (doc["TLS.identifier"] !== p.identifier) {
    throw new UserSigError("identifier", "UserSig was issued for another identifier");
  }
  if (doc["TLS.sdkappid"] !== p.sdkAppId) {
    throw new UserSigError("sdkappid", "UserSig was issued for another SDKAppID");
  }
  const expected = Buffer.from(
    hmacBase64(
      p.secretKey,
      doc["TLS.identifier"],
      doc["TLS.sdkappid"],
      doc["TLS.time"],
      doc["TLS.expire"],
      doc["TLS.userbuf"],
    ),
  );
  const actual = Buffer.from(doc["TLS.sig"]);
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    throw new UserSigError("signature", "UserSig signature does not match the secret key");
  }
  if (p.now > doc["TLS.time"] + doc["TLS.expire"]) {
    throw new UserSigError("expired", "UserSig has expired");
  }
  return doc;
}
