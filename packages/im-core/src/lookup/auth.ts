import { createHash, timingSafeEqual } from "node:crypto";
import { AuthError } from "../errors.ts";

/** One API key: `name` goes into audit lines, `token` is the bearer secret and is never logged. */
export interface ApiKey {
  name: string;
  token: string;
}

/** Answers the caller's key name for a valid `Authorization` header; throws AuthError otherwise. */
export type Authenticate = (header: string | undefined) => { keyName: string };

/** `Bearer <token>`; any non-space token (API_KEYS allows more than RFC 6750's b64token alphabet). */
const BEARER_RE = /^Bearer +(\S+) *$/i;

const sha256 = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest();

/**
 * Bearer-token authentication against a fixed set of keys. Tokens are compared as SHA-256 digests
 * (equal length, so timingSafeEqual applies and the token's length does not leak) and every key is
 * compared on every request, so the time taken says nothing about which key came closest.
 */
export function createAuthenticator(keys: readonly ApiKey[]): Authenticate {
  const digests = keys.map((k) => ({ name: k.name, digest: sha256(k.token) }));
  return (header) => {
    if (header === undefined || header.trim() === "") {
      throw new AuthError("missing Authorization header: send Authorization: Bearer <token>", {
        details: { reason: "missing" },
      });
    }
    const token = BEARER_RE.exec(header)?.[1];
    if (token === undefined) {
      throw new AuthError("malformed Authorization header: expected Bearer <token>", {
        details: { reason: "malformed" },
      });
    }
    const presented = sha256(token);
    let match: string | undefined;
    for (const key of digests) {
      // No early exit: the first matching key wins, but every key is compared.
      if (timingSafeEqual(presented, key.digest) && match === undefined) match = key.name;
    }
    if (match === undefined) {
      throw new AuthError("invalid API token", { details: { reason: "invalid" } });
    }
    return { keyName: match };
  };
}
