/**
 * Host allow-lists for URLs imvault fetches or signs. An entry is one of:
 * - `*.example.com`: https on any subdomain of example.com (not example.com itself);
 * - `example.com`: https on exactly that host;
 * - `http://127.0.0.1:8080` (an origin with a scheme): exactly that scheme, host and port — how a
 *   simulator's plain-http origin on loopback is allowed.
 */
export type AllowList = readonly string[];

export function isUrlAllowed(url: URL, allow: AllowList): boolean {
  for (const entry of allow) {
    if (entry.includes("://")) {
      let origin: string;
      try {
        origin = new URL(entry).origin;
      } catch {
        continue;
      }
      if (url.origin === origin) return true;
      continue;
    }
    if (url.protocol !== "https:" || url.username !== "" || url.password !== "") continue;
    const host = url.hostname.toLowerCase();
    const pattern = entry.toLowerCase();
    if (pattern.startsWith("*.")) {
      const suffix = pattern.slice(1); // ".example.com"
      if (host.endsWith(suffix) && host.length > suffix.length) return true;
    } else if (host === pattern) {
      return true;
    }
  }
  return false;
}

/** Parses `text` as an absolute URL, or returns undefined. */
export function tryParseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
