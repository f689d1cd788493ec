import { type LocalArchiveStore, mediaKey } from "@imvault/im-core";
import { describe, expect, it } from "vitest";
import {
  AUTH,
  apiHarness,
  json,
  MEDIA_BYTES,
  MEDIA_URL,
  MISSING_MEDIA_URL,
  OPS_TOKEN,
  useArchiveFixture,
} from "../../testing/api-harness.ts";

let store: LocalArchiveStore;
useArchiveFixture((fixture) => {
  ({ store } = fixture);
});

const media = (rawUrl: string, headers: Record<string, string> = AUTH) => ({
  path: `/v1/media?rawUrl=${encodeURIComponent(rawUrl)}`,
  headers,
});

describe("GET /v1/media", () => {
  it("answers a captured object's facts and a short-lived URL to its bytes", async () => {
    const { call } = apiHarness({ store });

    const res = await call(media(MEDIA_URL));

    expect(res.statusCode).toBe(200);
    expect(json(res)).toEqual({
      rawUrl: MEDIA_URL,
      status: "captured",
      key: mediaKey(MEDIA_URL),
      size: MEDIA_BYTES.length,
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      contentType: "image/png",
      tencentStatus: 1,
      capturedAt: "2024-03-01T09:20:00.000Z",
      url: `https://files.test/${mediaKey(MEDIA_URL)}?ttl=300`,
      expiresAt: "2024-03-01T10:35:00.000Z",
    });
    expect(res.headers?.["cache-control"]).toBe("no-store");
  });

  it("finds the object whatever query the RawURL carries (an image's sizes name one object)", async () => {
    const { call } = apiHarness({ store });

    const res = await call(media(`${MEDIA_URL}?imageMogr2/thumbnail/198x`));

    expect([res.statusCode, json(res).key]).toEqual([200, mediaKey(MEDIA_URL)]);
  });

  it("writes one audit line under the caller's key: host and path, never the query", async () => {
    const { call, logger } = apiHarness({ store });

    await call({
      ...media(`${MEDIA_URL}?sign=secret-ish`),
      headers: { authorization: `Bearer ${OPS_TOKEN}` },
    });
    await call(media(MISSING_MEDIA_URL));

    const audits = logger.lines.filter((l) => l.fields?.audit === true);
    expect(audits.map((l) => [l.message, l.fields?.keyName, l.fields?.outcome])).toEqual([
      ["media lookup", "ops", "ok"],
      ["media lookup", "moderation", "not_captured"],
    ]);
    expect(audits[0]?.fields?.resource).toEqual({
      host: "cos.ap-shanghai.myqcloud.com",
      path: new URL(MEDIA_URL).pathname,
    });
    expect(JSON.stringify(logger.lines)).not.toContain("secret-ish");
  });

  it("answers 404 in the error shape for a URL Tencent no longer had, and one never seen", async () => {
    const { call } = apiHarness({ store });

    for (const rawUrl of [MISSING_MEDIA_URL, MEDIA_URL.replace(/8\.png$/, "0.png")]) {
      const res = await call(media(rawUrl));
      expect(res.statusCode, rawUrl).toBe(404);
      expect(json(res).error).toMatchObject({
        code: "not_found",
        message: expect.stringMatching(/not captured/),
      });
    }
  });

  it("answers 400 naming the problem: no rawUrl, two, another host, an unsafe path, not a URL", async () => {
    const { call } = apiHarness({ store });
    const cases: [string, RegExp][] = [
      ["/v1/media", /rawUrl query parameter/],
      [`/v1/media?rawUrl=${encodeURIComponent(MEDIA_URL)}&rawUrl=x`, /rawUrl once/],
      [media("https://evil.example/a.png").path, /evil\.example is not on the allowed hosts/],
      [media("https://cos.ap-shanghai.myqcloud.com/a/%2e%2e/b.png").path, /dot segment/],
      [media("not a url").path, /not an absolute URL/],
    ];

    for (const [path, message] of cases) {
      const res = await call({ path, headers: AUTH });
      expect([res.statusCode, json(res).error?.code], path).toEqual([400, "invalid_request"]);
      expect(json(res).error.message, path).toMatch(message);
    }
  });

  it("needs a key", async () => {
    const { call, logger } = apiHarness({ store });

    const res = await call(media(MEDIA_URL, {}));

    expect(res.statusCode).toBe(401);
    expect(logger.lines.some((l) => l.fields?.audit === true)).toBe(false);
  });
});

describe("media in the archive's views", () => {
  it("GET /v1/archive lists the hour's media manifest items, or pending", async () => {
    const { call } = apiHarness({ store });

    const captured = json(await call({ path: "/v1/archive/C2C/2024030116", headers: AUTH }));
    const pending = json(await call({ path: "/v1/archive/Group/2024030117", headers: AUTH }));

    expect(captured.media).toEqual({
      capturedAt: "2024-03-01T09:20:00.000Z",
      items: [
        expect.objectContaining({ rawUrl: MEDIA_URL, status: "captured", key: mediaKey(MEDIA_URL) }),
        { rawUrl: MISSING_MEDIA_URL, status: "missing", tencentStatus: 2 },
      ],
    });
    expect(pending.media).toBe("pending");
  });

  it("GET /v1/status shows media per archived hour: counts, pending, nothing for a missing hour", async () => {
    const { call } = apiHarness({ store });

    const { rows } = json(await call({ path: "/v1/status?hours=3", headers: AUTH }));
    const byHour = Object.fromEntries(
      (rows as { chatType: string; msgTime: string; media?: unknown }[]).map((r) => [
        `${r.chatType}:${r.msgTime}`,
        r.media,
      ]),
    );

    expect(byHour["C2C:2024030116"]).toEqual({ captured: 1, missing: 1, refused: 0 });
    expect(byHour["Group:2024030117"]).toBe("pending");
    expect(byHour["C2C:2024030117"]).toBeUndefined();
  });
});
