import { gunzipSync } from "node:zlib";
import type { ConsoleSite } from "@imvault/console/site";
import type { LocalArchiveStore } from "@imvault/im-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTH, apiHarness, archiveFixture, json } from "../../testing/api-harness.ts";
import type { ApiDeps } from "./app.ts";
import { contentSecurityPolicy, IMMUTABLE, mediaSources } from "./console.ts";

const SITE: ConsoleSite = {
  html: '<!doctype html><head><!--imvault:config--><script type="module" src="/assets/app-AB12.js"></script></head>',
  assets: {
    "app-AB12.js": { contentType: "text/javascript; charset=utf-8", body: "console.log(1)".repeat(50) },
    "app-CD34.css": { contentType: "text/css; charset=utf-8", body: "body{margin:0}" },
  },
};

let store: LocalArchiveStore;
let remove: () => Promise<void>;
beforeAll(async () => {
  ({ store, remove } = await archiveFixture());
});
afterAll(() => remove());

const harness = (overrides: Partial<ApiDeps> = {}) =>
  apiHarness({ store, console: { site: SITE, settleHours: 2, retentionDays: 30 }, ...overrides });

describe("the console's routes (GET / and GET /assets/{name})", () => {
  it("serves the page without a key, no-cache, with the deployment's settings and a strict CSP", async () => {
    const { call, counts } = harness();

    const res = await call({ path: "/" });

    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "x-frame-options": "DENY",
    });
    expect(res.body).toContain('<meta name="imvault:lookback-hours" content="3">');
    expect(res.body).toContain('<meta name="imvault:settle-hours" content="2">');
    expect(res.body).toContain('<meta name="imvault:retention-days" content="30">');
    const csp = String(res.headers?.["content-security-policy"]);
    expect(csp).toMatch(
      /^default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https:\/\/\*\.myqcloud\.com /,
    );
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe|\*(?!\.)/);
    expect(counts).toEqual([[200, "console"]]);
  });

  it("adds the origin of the store's signed URLs to img-src and media-src", async () => {
    const { call } = harness({
      store: Object.assign(Object.create(store), {
        signedUrl: async (key: string) => `https://vault.s3.eu-west-1.amazonaws.com/${key}?X-Amz-Signature=x`,
      }),
    });

    const res = await call({ path: "/" });

    const csp = String(res.headers?.["content-security-policy"]);
    expect(csp).toMatch(/img-src [^;]* https:\/\/vault\.s3\.eu-west-1\.amazonaws\.com;/);
    expect(csp).toMatch(/media-src [^;]* https:\/\/vault\.s3\.eu-west-1\.amazonaws\.com;/);
  });

  it("answers 304 to the page's ETag, and gzip to a client that accepts it", async () => {
    const { call } = harness();
    const first = await call({ path: "/" });

    const again = await call({ path: "/", headers: { "if-none-match": String(first.headers?.etag) } });
    const zipped = await call({ path: "/", headers: { "accept-encoding": "gzip, br" } });

    expect([again.statusCode, again.body]).toEqual([304, ""]);
    expect(zipped.headers).toMatchObject({ "content-encoding": "gzip", vary: "accept-encoding" });
    expect(zipped.isBase64Encoded).toBe(true);
    expect(gunzipSync(Buffer.from(zipped.body!, "base64")).toString()).toBe(first.body);
  });

  it("serves a hashed asset for a year (immutable), HEAD without a body", async () => {
    const { call } = harness();

    const js = await call({ path: "/assets/app-AB12.js" });
    const head = await call({ method: "HEAD", path: "/assets/app-CD34.css" });

    expect(js.statusCode).toBe(200);
    expect(js.body).toBe(SITE.assets["app-AB12.js"]!.body);
    expect(js.headers).toMatchObject({
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": IMMUTABLE,
    });
    expect(IMMUTABLE).toBe("public, max-age=31536000, immutable");
    expect([head.statusCode, head.body, head.headers?.["content-type"]]).toEqual([
      200,
      "",
      "text/css; charset=utf-8",
    ]);
  });

  it("answers an unknown asset, and / on an API without the console, with a 404 in the error shape", async () => {
    const { call } = harness();
    const bare = apiHarness({ store });

    const asset = await call({ path: "/assets/app-OLD.js" });
    const proto = await call({ path: "/assets/__proto__" });
    const page = await bare.call({ path: "/" });

    expect([asset.statusCode, json(asset).error.code]).toEqual([404, "not_found"]);
    expect(proto.statusCode).toBe(404);
    expect([page.statusCode, json(page).error.message]).toEqual([
      404,
      expect.stringMatching(/console is not built/),
    ]);
  });

  it("leaves the /v1 routes as they were: JSON, keys required", async () => {
    const { call } = harness();

    const anonymous = await call({ path: "/v1/status" });
    const status = await call({ path: "/v1/status", headers: AUTH });
    const post = await call({ method: "POST", path: "/" });

    expect(anonymous.statusCode).toBe(401);
    expect(status.headers?.["content-type"]).toBe("application/json; charset=utf-8");
    expect(status.headers?.["content-security-policy"]).toBeUndefined();
    expect(post.statusCode).toBe(405);
  });
});

describe("mediaSources", () => {
  it("turns allow-list entries into CSP sources and drops anything that could add a directive", () => {
    expect(
      mediaSources([
        "*.myqcloud.com",
        "files.example.com",
        "http://127.0.0.1:8080",
        "http://127.0.0.1:8080/path",
        "evil.com; script-src *",
        "'unsafe-inline'",
      ]),
    ).toEqual(["https://*.myqcloud.com", "https://files.example.com", "http://127.0.0.1:8080"]);
  });

  it("lists no extra source when there is none", () => {
    expect(contentSecurityPolicy([])).toContain("img-src 'self'; media-src 'self';");
  });
});
