/**
 * The web console's two routes, outside `/v1`: `GET /` (the page, `no-cache`) and `GET /assets/{name}`
 * (hashed names, cached for a year). Neither needs a key: the page holds no data and no secret; it
 * signs in with an API key and calls the `/v1/…` routes itself. Every answer carries a strict
 * Content-Security-Policy: scripts, styles and connections to this origin only, images and media also
 * from the origins whose URLs the API hands out (COS PreSigURLs, the store's signed URLs).
 */
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { CONFIG_META, CONFIG_PLACEHOLDER, type ConsoleConfig, type ConsoleSite } from "@imvault/console/site";
import { NotFoundError } from "@imvault/im-core";

/** An answer that is not JSON: the route table passes it through as it is. */
export class RawAnswer {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly isBase64Encoded: boolean;
  constructor(statusCode: number, headers: Record<string, string>, body: string, isBase64Encoded = false) {
    this.statusCode = statusCode;
    this.headers = headers;
    this.body = body;
    this.isBase64Encoded = isBase64Encoded;
  }
}

export interface ConsoleOptions {
  config: ConsoleConfig;
  /** RawURL hosts the lookups accept (COS_URL_HOSTS): PreSigURLs point at them. */
  cosUrlHosts: readonly string[];
  /** The origin of the store's signed URLs (S3, or the local server), when it can be told. */
  storeOrigin?: () => Promise<string | undefined>;
}

export const IMMUTABLE = "public, max-age=31536000, immutable";
/** Only what a CSP source may hold: a source read from settings can never add a directive. */
const SOURCE = /^(https?:\/\/)(\*\.)?[a-z0-9.-]+(:\d{1,5})?$/i;

/**
 * CSP sources for the hosts of an allow-list (util/allow-list.ts's forms): `*.example.com` and
 * `example.com` are https; an entry with a scheme is its origin. Anything else is left out.
 */
export function mediaSources(hosts: readonly string[]): string[] {
  const sources = hosts.flatMap((entry) => {
    let source: string;
    if (entry.includes("://")) {
      const url = URL.parse(entry);
      if (url === null) return [];
      source = url.origin;
    } else {
      source = `https://${entry.toLowerCase()}`;
    }
    return SOURCE.test(source) ? [source] : [];
  });
  return [...new Set(sources)];
}

export function contentSecurityPolicy(media: readonly string[]): string {
  const extra = media.length === 0 ? "" : ` ${media.join(" ")}`;
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self'${extra}`,
    `media-src 'self'${extra}`,
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** The page's `<meta>` tags of the deployment's settings (numbers only). */
export function configMeta(config: ConsoleConfig): string {
  return (Object.keys(CONFIG_META) as (keyof ConsoleConfig)[])
    .map((k) => `<meta name="${CONFIG_META[k]}" content="${Number(config[k])}">`)
    .join("\n");
}

export interface ConsoleRoutes {
  page(headers: Record<string, string | undefined>): Promise<RawAnswer>;
  asset(name: string, headers: Record<string, string | undefined>): Promise<RawAnswer>;
}

export function createConsoleRoutes(site: ConsoleSite | undefined, options: ConsoleOptions): ConsoleRoutes {
  const html = site?.html.replace(CONFIG_PLACEHOLDER, configMeta(options.config));
  const etag =
    html === undefined ? "" : `"${createHash("sha256").update(html).digest("base64url").slice(0, 22)}"`;
  const gzipped = new Map<string, string>();
  let policy: Promise<string> | undefined;
  // The store's origin is asked once (a signed URL of no object: nothing is read or written).
  const csp = () => {
    policy ??= (options.storeOrigin?.() ?? Promise.resolve(undefined))
      .catch(() => undefined)
      .then((origin) =>
        contentSecurityPolicy(
          mediaSources([...options.cosUrlHosts, ...(origin === undefined ? [] : [origin])]),
        ),
      );
    return policy;
  };

  const answer = async (
    key: string,
    body: string,
    contentType: string,
    cacheControl: string,
    headers: Record<string, string | undefined>,
    extra: Record<string, string> = {},
  ): Promise<RawAnswer> => {
    const common = {
      "content-type": contentType,
      "cache-control": cacheControl,
      "content-security-policy": await csp(),
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "x-frame-options": "DENY",
      "cross-origin-opener-policy": "same-origin",
      "cross-origin-resource-policy": "same-origin",
      "permissions-policy": "camera=(), microphone=(), geolocation=()",
      vary: "accept-encoding",
      ...extra,
    };
    if (!/\bgzip\b/i.test(headers["accept-encoding"] ?? "")) return new RawAnswer(200, common, body);
    let zipped = gzipped.get(key);
    if (zipped === undefined) {
      zipped = gzipSync(body, { level: 9 }).toString("base64");
      gzipped.set(key, zipped);
    }
    return new RawAnswer(200, { ...common, "content-encoding": "gzip" }, zipped, true);
  };

  return {
    async page(headers) {
      if (html === undefined) {
        throw new NotFoundError(
          "the console is not built into this API: run `npm run build` and deploy again",
        );
      }
      if (headers["if-none-match"]?.split(/\s*,\s*/).includes(etag)) {
        return new RawAnswer(
          304,
          { etag, "cache-control": "no-cache", "content-security-policy": await csp() },
          "",
        );
      }
      return answer("/", html, "text/html; charset=utf-8", "no-cache", headers, { etag });
    },
    async asset(name, headers) {
      const asset = site !== undefined && Object.hasOwn(site.assets, name) ? site.assets[name] : undefined;
      if (asset === undefined) {
        throw new NotFoundError(
          `no console asset ${name.slice(0, 100)}: reload the page for the current ones`,
        );
      }
      return answer(name, asset.body, asset.contentType, IMMUTABLE, headers);
    },
  };
}
