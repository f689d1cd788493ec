import { createRequire } from "node:module";
import { deflateSync, inflateSync } from "node:zlib";
import { afterEach, describe, expect, it, vi } from "vitest";
import { UserSigError } from "../errors.ts";
import { decodeUserSig, genUserSig, type UserSigDocument, verifyUserSig } from "./usersig.ts";

/** Tencent's own Node implementation (tls-sig-api-v2, CommonJS, untyped), used as an independent oracle. */
interface OracleApi {
  genUserSig(userid: string, expire: number): string;
  genSig(userid: string, expire: number, userBuf: Buffer | null): string;
}
const oracle = createRequire(import.meta.url)("tls-sig-api-v2") as {
  Api: new (sdkappid: number, key: string) => OracleApi;
};

/** Reads a sig the way Tencent's server must: un-substitute, base64, inflate, JSON. */
function rawDecode(sig: string): UserSigDocument {
  const b64 = sig.replace(/\*/g, "+").replace(/-/g, "/").replace(/_/g, "=");
  return JSON.parse(inflateSync(Buffer.from(b64, "base64")).toString("utf8"));
}

function urlSafe(bytes: Buffer): string {
  return bytes.toString("base64").replace(/\+/g, "*").replace(/\//g, "-").replace(/=/g, "_");
}

/** Builds a sig from any document, signed or not, to feed the decoder what a forger could. */
function encode(doc: unknown): string {
  return urlSafe(deflateSync(Buffer.from(JSON.stringify(doc), "utf8")));
}

/** Small deterministic PRNG (mulberry32) so the generated cases are the same on every run. */
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

const ALPHABETS = [
  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-",
  "管理员用户账号测试中文腾讯云通信",
  "😀🎉👩‍💻🔑🚀",
  "äöüßéèñçøå",
  " !\"#$%&'()*+,./:;<=>?@[\\]^`{|}~\n\t",
];

function randomText(rand: () => number, maxLength: number): string {
  const alphabet = [...ALPHABETS[Math.floor(rand() * ALPHABETS.length)]!];
  const length = 1 + Math.floor(rand() * maxLength);
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(rand() * alphabet.length)];
  return out;
}

interface Case {
  sdkAppId: number;
  identifier: string;
  secretKey: string;
  expire: number;
  userbuf?: Buffer;
}

const namedCases: Case[] = [
  {
    sdkAppId: 1400000000,
    identifier: "administrator",
    secretKey: "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e",
    expire: 86400,
  },
  { sdkAppId: 1400123456, identifier: "管理员", secretKey: "key", expire: 180 * 86400 },
  { sdkAppId: 20000001, identifier: "user_😀_🎉", secretKey: "k".repeat(4096), expire: 1 },
  { sdkAppId: 1600000001, identifier: "a", secretKey: "密钥🔑ünïcödé", expire: 300 },
  { sdkAppId: 1400000000, identifier: "x".repeat(1000), secretKey: "s", expire: 86400 },
  {
    sdkAppId: 1,
    identifier: "trtc-user",
    secretKey: "key",
    expire: 300,
    userbuf: Buffer.from([0, 1, 2, 255, 254, 0x7f]),
  },
  {
    sdkAppId: 1400000000,
    identifier: "房间用户",
    secretKey: "key",
    expire: 600,
    userbuf: Buffer.from("房间 room 42"),
  },
];

function generatedCases(count: number): Case[] {
  const rand = prng(20240229);
  return Array.from({ length: count }, () => {
    const c: Case = {
      sdkAppId: 1 + Math.floor(rand() * 4_294_967_294),
      identifier: randomText(rand, 40),
      secretKey: randomText(rand, rand() < 0.2 ? 300 : 64),
      expire: 1 + Math.floor(rand() * 31_536_000),
    };
    if (rand() < 0.3)
      c.userbuf = Buffer.from(
        Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256)),
      );
    return c;
  });
}

const allCases = [...namedCases, ...generatedCases(200)];

function oracleSig(c: Case): string {
  const api = new oracle.Api(c.sdkAppId, c.secretKey);
  return c.userbuf === undefined
    ? api.genUserSig(c.identifier, c.expire)
    : api.genSig(c.identifier, c.expire, c.userbuf);
}

function ourSig(c: Case, issuedAt: number): string {
  return genUserSig({
    sdkAppId: c.sdkAppId,
    identifier: c.identifier,
    secretKey: c.secretKey,
    expireSeconds: c.expire,
    issuedAt,
    userbuf: c.userbuf,
  });
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("genUserSig against Tencent's tls-sig-api-v2", () => {
  it("produces the same document and TLS.sig as the oracle for the same inputs and time (named cases)", () => {
    for (const c of namedCases) {
      const theirs = rawDecode(oracleSig(c));
      const ours = rawDecode(ourSig(c, theirs["TLS.time"]));
      expect(ours).toEqual(theirs);
    }
  });

  it(`produces the same document and TLS.sig as the oracle for ${allCases.length} generated inputs`, () => {
    let withUserbuf = 0;
    for (const c of allCases) {
      const theirs = rawDecode(oracleSig(c));
      expect(rawDecode(ourSig(c, theirs["TLS.time"])), JSON.stringify(c.identifier)).toEqual(theirs);
      if (c.userbuf !== undefined) withUserbuf++;
    }
    expect(withUserbuf).toBeGreaterThan(40); // the generated set really covers userbuf
  });

  it("issues at the given time: with the oracle's clock pinned, the documents match field by field", () => {
    const issuedAt = 1_448_974_806;
    vi.spyOn(Date, "now").mockReturnValue(issuedAt * 1000 + 999);
    const c = namedCases[1]!;
    const theirs = rawDecode(oracleSig(c));
    expect(theirs["TLS.time"]).toBe(issuedAt);
    expect(rawDecode(ourSig(c, issuedAt))).toEqual({
      "TLS.ver": "2.0",
      "TLS.identifier": "管理员",
      "TLS.sdkappid": 1400123456,
      "TLS.expire": 180 * 86400,
      "TLS.time": issuedAt,
      "TLS.sig": theirs["TLS.sig"],
    });
  });

  it("uses only Tencent's URL-safe alphabet (base64 with * - _)", () => {
    for (const c of allCases.slice(0, 50)) {
      expect(ourSig(c, 1_700_000_000)).toMatch(/^[A-Za-z0-9*\-_]+$/);
    }
  });

  it("accepts the oracle's sigs in verifyUserSig (interoperates in both directions)", () => {
    for (const c of allCases) {
      const sig = oracleSig(c);
      const now = rawDecode(sig)["TLS.time"];
      const doc = verifyUserSig({
        sig,
        sdkAppId: c.sdkAppId,
        identifier: c.identifier,
        secretKey: c.secretKey,
        now,
      });
      expect(doc["TLS.identifier"]).toBe(c.identifier);
      expect(doc["TLS.userbuf"]).toBe(c.userbuf?.toString("base64"));
    }
  });
});

describe("decodeUserSig", () => {
  it("returns the document without checking it", () => {
    const sig = ourSig(namedCases[2]!, 1_700_000_000);
    expect(decodeUserSig(sig)).toMatchObject({
      "TLS.identifier": "user_😀_🎉",
      "TLS.sdkappid": 20000001,
      "TLS.time": 1_700_000_000,
      "TLS.expire": 1,
    });
  });

  it.each([
    ["an empty string", ""],
    ["text that is not base64 zlib", "not a sig at all!"],
    ["zlib of something that is not JSON", urlSafe(deflateSync(Buffer.from("hello")))],
    ["a JSON document without the TLS fields", encode({ hello: "world" })],
    [
      "a document whose sdkappid is text",
      encode({ "TLS.identifier": "a", "TLS.sdkappid": "1", "TLS.expire": 1, "TLS.time": 1, "TLS.sig": "x" }),
    ],
    ["JSON null", encode(null)],
  ])("rejects %s as malformed", (_what, sig) => {
    expect(() => decodeUserSig(sig)).toThrow(
      expect.objectContaining({ name: "UserSigError", reason: "malformed" }),
    );
  });
});

describe("verifyUserSig", () => {
  const app = { sdkAppId: 1400000000, identifier: "administrator", secretKey: "the-right-key" };
  const issuedAt = 1_700_000_000;
  const expire = 86_400;
  const sig = genUserSig({ ...app, expireSeconds: expire, issuedAt });

  /** Replaces one character in the middle with a different one of the same alphabet. */
  function corrupt(text: string, at: number): string {
    const replacement = text[at] === "A" ? "B" : "A";
    return `${text.slice(0, at)}${replacement}${text.slice(at + 1)}`;
  }

  function reasonOf(run: () => unknown): string {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(UserSigError);
      return (error as UserSigError).reason;
    }
    throw new Error("expected verifyUserSig to throw");
  }

  it("accepts a good sig from its issue time up to and including time + expire", () => {
    expect(verifyUserSig({ ...app, sig, now: issuedAt })["TLS.time"]).toBe(issuedAt);
    expect(verifyUserSig({ ...app, sig, now: issuedAt + expire })["TLS.expire"]).toBe(expire);
  });

  it("rejects each kind of bad sig with its own reason", () => {
    const reasons = {
      key: reasonOf(() => verifyUserSig({ ...app, secretKey: "the-wrong-key", sig, now: issuedAt })),
      identifier: reasonOf(() => verifyUserSig({ ...app, identifier: "someone-else", sig, now: issuedAt })),
      appId: reasonOf(() => verifyUserSig({ ...app, sdkAppId: 1400000001, sig, now: issuedAt })),
      expired: reasonOf(() => verifyUserSig({ ...app, sig, now: issuedAt + expire + 1 })),
      corrupted: reasonOf(() => verifyUserSig({ ...app, sig: corrupt(sig, 20), now: issuedAt })),
    };
    expect(reasons).toEqual({
      key: "signature",
      identifier: "identifier",
      appId: "sdkappid",
      expired: "expired",
      corrupted: "malformed",
    });
    expect(new Set(Object.values(reasons)).size).toBe(5);
  });

  it("rejects a truncated sig as malformed", () => {
    expect(reasonOf(() => verifyUserSig({ ...app, sig: sig.slice(0, -4), now: issuedAt }))).toBe("malformed");
  });

  it("rejects a document whose fields were changed after signing (longer expire, other userbuf)", () => {
    const doc = decodeUserSig(sig);
    const longer = encode({ ...doc, "TLS.expire": expire * 365 });
    expect(reasonOf(() => verifyUserSig({ ...app, sig: longer, now: issuedAt }))).toBe("signature");

    const withBuf = genUserSig({ ...app, expireSeconds: expire, issuedAt, userbuf: Buffer.from("room-1") });
    const swapped = encode({
      ...decodeUserSig(withBuf),
      "TLS.userbuf": Buffer.from("room-2").toString("base64"),
    });
    expect(verifyUserSig({ ...app, sig: withBuf, now: issuedAt })["TLS.userbuf"]).toBe(
      Buffer.from("room-1").toString("base64"),
    );
    expect(reasonOf(() => verifyUserSig({ ...app, sig: swapped, now: issuedAt }))).toBe("signature");
  });

  it("checks non-ASCII identifiers and keys byte for byte", () => {
    const p = { sdkAppId: 1400000000, identifier: "用户😀", secretKey: "密钥" };
    const s = genUserSig({ ...p, expireSeconds: 60, issuedAt });
    expect(verifyUserSig({ ...p, sig: s, now: issuedAt })["TLS.identifier"]).toBe("用户😀");
    expect(reasonOf(() => verifyUserSig({ ...p, identifier: "用户😁", sig: s, now: issuedAt }))).toBe(
      "identifier",
    );
    expect(reasonOf(() => verifyUserSig({ ...p, secretKey: "密钥 ", sig: s, now: issuedAt }))).toBe(
      "signature",
    );
  });

  it("keeps the secret key and the sig out of its error messages", () => {
    const errors = [
      () => verifyUserSig({ ...app, secretKey: "the-wrong-key", sig, now: issuedAt }),
      () => verifyUserSig({ ...app, sig, now: issuedAt + expire + 1 }),
      () => verifyUserSig({ ...app, sig: sig.slice(0, -4), now: issuedAt }),
    ].map((run) => {
      try {
        run();
      } catch (error) {
        return error as Error;
      }
      throw new Error("expected a throw");
    });
    for (const e of errors) {
      const text = `${e.message}\n${e.stack}\n${JSON.stringify(e)}`;
      expect(text).not.toContain(app.secretKey);
      expect(text).not.toContain("the-wrong-key");
      expect(text).not.toContain(sig.slice(0, 24));
    }
  });
});
