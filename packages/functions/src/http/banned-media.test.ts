import { type LocalArchiveStore, mediaKey, writeMediaManifest } from "@imvault/im-core";
import { describe, expect, it } from "vitest";
import {
  AUTH,
  apiHarness,
  json,
  MEDIA_BYTES,
  MEDIA_URL,
  OPS_TOKEN,
  useArchiveFixture,
} from "../../testing/api-harness.ts";

let store: LocalArchiveStore;
useArchiveFixture((fixture) => {
  ({ store } = fixture);
});

const banned = (query = "", headers: Record<string, string> = AUTH) => ({
  path: `/v1/media/banned${query}`,
  headers,
});

describe("GET /v1/media/banned", () => {
  it("lists the captured media Tencent reported banned over the lookback window, and no other item", async () => {
    const { call } = apiHarness({ store });

    const res = await call(banned());

    expect(res.statusCode).toBe(200);
    // The fixture's clock is 18:30 Beijing, lookback 3 hours: 15, 16 and 17 for both chat types.
    expect(json(res)).toEqual({
      from: "2024030115",
      to: "2024030117",
      items: [
        {
          chatType: "C2C",
          msgTime: "2024030116",
          rawUrl: MEDIA_URL,
          key: mediaKey(MEDIA_URL),
          size: MEDIA_BYTES.length,
          sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
          contentType: "image/png",
        },
      ],
      hours: { captured: 1, pending: 5, corrupt: 0 },
    });
    expect(res.headers?.["cache-control"]).toBe("no-store");
  });

  it("reads the window asked for, counts a media manifest that cannot be read, and leaves normal media out", async () => {
    await store.put("media-manifests/chat_type=Group/dt=2024-03-01/hour=12.json", Buffer.from("{ not json"));
    await writeMediaManifest(store, {
      version: 1,
      chatType: "C2C",
      msgTime: "2024030112",
      items: [
        {
          rawUrl: MEDIA_URL.replace(/8\.png$/, "7.png"),
          status: "captured",
          tencentStatus: 0,
          key: mediaKey(MEDIA_URL.replace(/8\.png$/, "7.png")),
          size: 3,
          sha256: "0".repeat(64),
        },
      ],
      capturedAt: "2024-03-01T05:00:00.000Z",
    });
    const { call } = apiHarness({ store });

    const body = json(await call(banned("?from=2024030112&to=2024030112")));

    expect(body).toEqual({
      from: "2024030112",
      to: "2024030112",
      items: [],
      hours: { captured: 1, pending: 0, corrupt: 1 },
    });
  });

  it("writes one audit line per listing under the caller's key, with the window and the count", async () => {
    const { call, logger } = apiHarness({ store });

    await call(banned("", { authorization: `Bearer ${OPS_TOKEN}` }));

    const audits = logger.lines.filter((l) => l.fields?.audit === true);
    expect(audits.map((l) => [l.message, l.fields?.keyName, l.fields?.outcome, l.fields?.items])).toEqual([
      ["banned media listing", "ops", "ok", 1],
    ]);
    expect(audits[0]?.fields).toMatchObject({ from: "2024030115", to: "2024030117" });
  });

  it("answers 400 naming the problem: a bad hour, a reversed or too long window, a parameter twice", async () => {
    const { call } = apiHarness({ store });
    const cases: [string, RegExp][] = [
      ["?from=20240301", /not 10 digits/],
      ["?from=2024030118&to=2024030110", /after/],
      ["?from=2024010100&to=2024030100", /at most 744/],
      ["?to=2024030110&to=2024030111", /give to once/],
    ];

    for (const [query, message] of cases) {
      const res = await call(banned(query));
      expect([res.statusCode, json(res).error?.code], query).toEqual([400, "invalid_request"]);
      expect(json(res).error.message, query).toMatch(message);
    }
  });

  it("needs a key, and writes no audit line without one", async () => {
    const { call, logger } = apiHarness({ store });

    const res = await call(banned("", {}));

    expect(res.statusCode).toBe(401);
    expect(logger.lines.some((l) => l.fields?.audit === true)).toBe(false);
  });
});
