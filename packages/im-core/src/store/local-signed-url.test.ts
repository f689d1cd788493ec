import { describe, expect, it } from "vitest";
import { createLocalUrlSigner } from "./local-signed-url.ts";

const SECRET = "0123456789abcdef0123456789abcdef";
const KEY = "raw/chat_type=C2C/dt=2024-01-01/hour=05/history 1.gz";

function signerAt(nowMs: number, secret = SECRET) {
  return createLocalUrlSigner({ baseUrl: "http://127.0.0.1:3000/", secret, now: () => nowMs });
}

function pathAndQuery(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}

describe("local signed URLs", () => {
  it("signs a key into /files/<encoded key>?expires&sig that verifies back to the same key", () => {
    const signer = signerAt(1_700_000_000_000);

    const url = signer.urlFor(KEY, 300);

    expect(url).toMatch(
      /^http:\/\/127\.0\.0\.1:3000\/files\/raw\/chat_type%3DC2C\/.*\?expires=1700000300&sig=/,
    );
    expect(signer.verify(pathAndQuery(url))).toEqual({ ok: true, key: KEY });
  });

  it("refuses a URL after its expiry second", () => {
    const url = signerAt(1_700_000_000_000).urlFor(KEY, 60);

    expect(signerAt(1_700_000_060_000).verify(pathAndQuery(url)).ok).toBe(true);
    expect(signerAt(1_700_000_061_000).verify(pathAndQuery(url))).toEqual({ ok: false, reason: "expired" });
  });

  it("refuses a URL whose key, expiry or signature was changed, or that another secret signed", () => {
    const signer = signerAt(1_700_000_000_000);
    const url = pathAndQuery(signer.urlFor(KEY, 60));

    const otherKey = url.replace("hour=05", "hour=06").replace("hour%3D05", "hour%3D06");
    const longer = url.replace("expires=1700000060", "expires=1800000000");
    const foreign = pathAndQuery(
      signerAt(1_700_000_000_000, "another-secret-of-enough-bytes").urlFor(KEY, 60),
    );

    expect(signer.verify(otherKey)).toEqual({ ok: false, reason: "signature" });
    expect(signer.verify(longer)).toEqual({ ok: false, reason: "signature" });
    expect(signer.verify(foreign)).toEqual({ ok: false, reason: "signature" });
    expect(signer.verify(`${url}x`)).toEqual({ ok: false, reason: "signature" });
  });

  it("answers malformed for paths outside /files/, missing parameters and dot segments", () => {
    const signer = signerAt(0);

    expect(signer.verify("/v1/health?expires=1&sig=x").ok).toBe(false);
    expect(signer.verify("/files/raw/x.gz")).toEqual({ ok: false, reason: "malformed" });
    expect(signer.verify("/files/../etc/passwd?expires=1&sig=x")).toEqual({ ok: false, reason: "malformed" });
    expect(signer.verify("/files/%E0%A4%A?expires=1&sig=x")).toEqual({ ok: false, reason: "malformed" });
  });

  it("refuses a secret shorter than 16 bytes", () => {
    expect(() => createLocalUrlSigner({ baseUrl: "http://127.0.0.1:1", secret: "short" })).toThrow(
      /16 bytes/,
    );
  });
});
