import { createHmac, timingSafeEqual } from "node:crypto";
import { ValidationError } from "../errors.ts";

/**
 * Short-lived download URLs for the local-directory store: `<baseUrl>/files/<key>?expires=<unix s>&sig=<hmac>`,
 * the local stand-in for S3 presigned GETs. The HMAC covers the key and the expiry, so a holder can
 * neither reach another key nor extend the URL's life; the server that answers them (imvault dev)
 * verifies with the same secret.
 */

/** The path segment under which signed files are served. */
export const FILES_PATH = "/files/";

export type LocalUrlCheck =
  | { ok: true; key: string }
  | { ok: false; reason: "malformed" | "expired" | "signature" };

export interface LocalUrlSigner {
  /** A URL that lets its holder GET `key` for `ttlSeconds`. */
  urlFor(key: string, ttlSeconds: number): string;
  /** Checks a request's path and query (as received, still percent-encoded) against the signature. */
  verify(pathAndQuery: string): LocalUrlCheck;
}

export interface LocalUrlSignerOptions {
  /** Origin (and optional path) the URLs point at, e.g. http://127.0.0.1:3000. */
  baseUrl: string;
  /** The HMAC key: at least 16 bytes of secret. */
  secret: string | Buffer;
  /** Epoch ms; defaults to Date.now. */
  now?: () => number;
}

const MIN_SECRET_BYTES = 16;

export function createLocalUrlSigner(options: LocalUrlSignerOptions): LocalUrlSigner {
  const secret = typeof options.secret === "string" ? Buffer.from(options.secret, "utf8") : options.secret;
  if (secret.length < MIN_SECRET_BYTES) {
    throw new ValidationError(`the local URL signing secret must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  const base = options.baseUrl.replace(/\/+$/, "");
  const basePath = new URL(base).pathname.replace(/\/+$/, "");
  const now = options.now ?? Date.now;
  const mac = (key: string, expires: number) =>
    createHmac("sha256", secret).update(`${key}\n${expires}`).digest("base64url");

  return {
    urlFor(key, ttlSeconds) {
      if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
        throw new ValidationError("a signed URL needs a positive time to live");
      }
      const expires = Math.floor(now() / 1000) + Math.ceil(ttlSeconds);
      const path = key.split("/").map(encodeURIComponent).join("/");
      return `${base}${FILES_PATH}${path}?expires=${expires}&sig=${mac(key, expires)}`;
    },

    verify(pathAndQuery) {
      let url: URL;
      try {
        url = new URL(pathAndQuery, "http://local");
      } catch {
        return { ok: false, reason: "malformed" };
      }
      const prefix = basePath + FILES_PATH;
      if (!url.pathname.startsWith(prefix)) return { ok: false, reason: "malformed" };
      let key: string;
      try {
        key = url.pathname.slice(prefix.length).split("/").map(decodeURIComponent).join("/");
      } catch {
        return { ok: false, reason: "malformed" };
      }
      const expiresText = url.searchParams.get("expires") ?? "";
      const sig = url.searchParams.get("sig") ?? "";
      if (!/^\d{1,12}$/.test(expiresText) || sig === "" || key === "")
        return { ok: false, reason: "malformed" };
      const expires = Number(expiresText);
      const expected = Buffer.from(mac(key, expires));
      const given = Buffer.from(sig);
      // Check the signature before the expiry, so an attacker learns nothing from the reason.
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        return { ok: false, reason: "signature" };
      }
      if (Math.floor(now() / 1000) > expires) return { ok: false, reason: "expired" };
      return { ok: true, key };
    },
  };
}
