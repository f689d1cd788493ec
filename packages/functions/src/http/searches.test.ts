import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { createLocalStore, SearchPageSchema } from "@imvault/im-core";
import { AthenaSearches } from "@imvault/im-core/athena";
import { LocalSearches } from "@imvault/im-core/duckdb";
import {
  athenaMessages,
  FakeAthena,
  FakeClock,
  recordingLogger,
  writeTableFile,
} from "@imvault/im-core/testing";
import * as v from "valibot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiGatewayEvent } from "../../testing/apigw-event.ts";
import { type ApiHandler, createApiHandler } from "./app.ts";

const TOKEN = "tok-search-Qw8rT5yUi2Op";
const AUTH = { authorization: `Bearer ${TOKEN}` };
const lines = [
  '{"SdkAppId":1,"ChatType":"C2C","MsgTime":"2024030112","MsgList":[',
  ...Array.from({ length: 40 }, (_, i) =>
    JSON.stringify({
      From_Account: `u${i % 4}`,
      To_Account: "u9",
      MsgTimestamp: 1709265600 + i,
      MsgSeq: i,
      MsgRandom: i,
      MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: i % 2 ? "周末去爬山吗" : "ok" } }],
    }),
  ).map((l, i, all) => (i < all.length - 1 ? `${l},` : l)),
  "]}",
];

describe("POST /v1/searches and GET /v1/searches/{id} with DuckDB on one machine", () => {
  let dir: string;
  let handle: ApiHandler;
  const logger = recordingLogger();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "imvault-searches-"));
    await writeTableFile(
      join(dir, "tables/messages"),
      { chatType: "C2C", msgTime: "2024030112", name: "a.gz" },
      gzipSync(`${lines.join("\n")}\n`),
    );
    handle = createApiHandler({
      getCosSig: async () => [],
      store: createLocalStore({ root: dir, urlFor: (k) => `https://files.test/${k}` }),
      clock: new FakeClock(Date.parse("2024-03-01T10:30:00Z")),
      logger,
      searches: new LocalSearches({ tablesDir: join(dir, "tables/messages"), pageSize: 7 }),
      config: {
        apiKeys: [{ name: "ops", token: TOKEN }],
        cosUrlHosts: [],
        maxItems: 10,
        maxBodyBytes: 4096,
        lookbackHours: 72,
      },
    });
  });

  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const call = async (init: Parameters<typeof apiGatewayEvent>[0]) => {
    const res = await handle(apiGatewayEvent(init));
    return { status: res.statusCode, body: JSON.parse(res.body as string) };
  };

  it("answers 202 with an id, then every matching row a page at a time until nextCursor is null", async () => {
    const started = await call({
      method: "POST",
      path: "/v1/searches",
      headers: AUTH,
      body: { text: "爬山", user: "u1", from: "2024030112", to: "2024030112" },
      requestId: "req-search-1",
    });
    expect(started.status).toBe(202);
    // Audited like the lookups: who, what they searched for, the search's id.
    const audits = logger.lines.filter((l) => l.fields?.audit === true);
    expect(audits.map((l) => [l.message, l.fields])).toEqual([
      [
        "message search",
        expect.objectContaining({
          keyName: "ops",
          requestId: "req-search-1",
          search: { text: "爬山", user: "u1", from: "2024030112", to: "2024030112" },
          outcome: "ok",
          id: started.body.id,
        }),
      ],
    ]);

    const rows: Record<string, unknown>[] = [];
    let cursor: string | null = "";
    for (let i = 0; i < 50 && cursor !== null; i++) {
      const page = await call({
        path: `/v1/searches/${started.body.id}${cursor === "" ? "" : `?cursor=${cursor}`}`,
        headers: AUTH,
      });
      expect(page.status).toBe(200);
      expect(["running", "succeeded"]).toContain(page.body.state);
      // The page and row shapes the Athena adapter gives too (and the OpenAPI document promises).
      expect(v.safeParse(SearchPageSchema, page.body).issues).toBeUndefined();
      rows.push(...page.body.rows);
      cursor = page.body.nextCursor;
      if (page.body.state === "running") await new Promise((r) => setTimeout(r, 20));
    }
    expect(cursor).toBeNull();
    expect(rows.map((r) => r.line)).toEqual([3, 7, 11, 15, 19, 23, 27, 31, 35, 39].map((l) => l));
    expect(rows.every((r) => r.from_account === "u1" && r.text === "周末去爬山吗")).toBe(true);
  });

  it("needs a key, refuses a malformed search with 400 naming the field, and 404s an unknown id", async () => {
    const anonymous = await call({ method: "POST", path: "/v1/searches", body: { user: "u1" } });
    const unknownField = await call({
      method: "POST",
      path: "/v1/searches",
      headers: AUTH,
      body: { sql: "DROP", from: "2024030100", to: "2024030123" },
    });
    const window = { from: "2024030100", to: "2024030123" };
    const badHour = await call({
      method: "POST",
      path: "/v1/searches",
      headers: AUTH,
      body: { from: "yesterday", to: "2024030100" },
    });
    const notAnHour = await call({
      method: "POST",
      path: "/v1/searches",
      headers: AUTH,
      body: { from: "2024023000", to: "2024030100" },
    });
    const backwards = await call({
      method: "POST",
      path: "/v1/searches",
      headers: AUTH,
      body: { from: "2024030200", to: "2024030100" },
    });
    const noWindow = await call({
      method: "POST",
      path: "/v1/searches",
      headers: AUTH,
      body: { user: "u1" },
    });
    const halfWindow = await call({
      method: "POST",
      path: "/v1/searches",
      headers: AUTH,
      body: { user: "u1", from: "2024030100" },
    });
    const peerAlone = await call({
      method: "POST",
      path: "/v1/searches",
      headers: AUTH,
      body: { peer: "u1", ...window },
    });
    const unknown = await call({ path: "/v1/searches/nope", headers: AUTH });

    expect(anonymous.status).toBe(401);
    expect([unknownField.status, JSON.stringify(unknownField.body)]).toEqual([
      400,
      expect.stringMatching(/sql/),
    ]);
    expect([badHour.status, JSON.stringify(badHour.body)]).toEqual([400, expect.stringMatching(/from/)]);
    expect([notAnHour.status, JSON.stringify(notAnHour.body)]).toEqual([
      400,
      expect.stringMatching(/from: is not a real hour/),
    ]);
    // The body's own field names, not the command's flags.
    expect([backwards.status, backwards.body.error.message]).toEqual([
      400,
      expect.stringMatching(/^from \d{10} is after to \d{10}$/),
    ]);
    expect([noWindow.status, noWindow.body.error.message]).toEqual([
      400,
      expect.stringMatching(/needs a window: give from and to.*from and to missing/),
    ]);
    expect([halfWindow.status, halfWindow.body.error.message]).toEqual([
      400,
      expect.stringMatching(/to missing/),
    ]);
    for (const refused of [unknownField, badHour, notAnHour, backwards, noWindow, peerAlone]) {
      expect(JSON.stringify(refused.body)).not.toMatch(/ at .*\.ts:\d+/); // no stack trace
    }
    expect([peerAlone.status, peerAlone.body.error.message]).toEqual([
      400,
      expect.stringMatching(/^peer needs user: /),
    ]);
    expect(unknown.status).toBe(404);
  });
});

describe("POST /v1/searches and GET /v1/searches/{id} with Athena in AWS", () => {
  const setUp = () => {
    const athena = new FakeAthena(athenaMessages(5));
    const logger = recordingLogger();
    const handle = createApiHandler({
      getCosSig: async () => [],
      store: createLocalStore({ root: tmpdir(), urlFor: (k) => `https://files.test/${k}` }),
      clock: new FakeClock(Date.parse("2024-03-01T10:30:00Z")),
      logger,
      searches: new AthenaSearches({
        client: athena,
        workgroup: "imvault-prod",
        database: "imvault_prod",
        pageSize: 2,
      }),
      config: {
        apiKeys: [{ name: "ops", token: TOKEN }],
        cosUrlHosts: [],
        maxItems: 10,
        maxBodyBytes: 4096,
        lookbackHours: 72,
      },
    });
    const call = async (init: Parameters<typeof apiGatewayEvent>[0]) => {
      const res = await handle(apiGatewayEvent(init));
      return { status: res.statusCode, body: JSON.parse(res.body as string) };
    };
    return { athena, logger, call };
  };

  it("answers 202 with the QueryExecutionId, running until Athena is done, then the rows a page at a time", async () => {
    const { athena, logger, call } = setUp();
    const body = { user: "u'1", text: "爬山", from: "2015120100", to: "2015120123" };

    const started = await call({ method: "POST", path: "/v1/searches", headers: AUTH, body });
    const running = await call({ path: `/v1/searches/${started.body.id}`, headers: AUTH });
    athena.finish(started.body.id, "SUCCEEDED");
    const pages = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? "" : `?cursor=${encodeURIComponent(cursor)}`;
      const page = await call({ path: `/v1/searches/${started.body.id}${query}`, headers: AUTH });
      pages.push(page);
      cursor = page.body.nextCursor;
    } while (cursor !== null && pages.length < 10);

    expect(started.status).toBe(202);
    expect([...athena.queries.keys()]).toEqual([started.body.id]);
    const input = athena.queries.get(started.body.id)!.input;
    expect([input.WorkGroup, input.QueryExecutionContext?.Database]).toEqual([
      "imvault-prod",
      "imvault_prod",
    ]);
    expect(input.ExecutionParameters).toContain("'u''1'");
    expect(input.QueryString).not.toContain("u'1");
    expect([running.status, running.body.state, running.body.rows]).toEqual([200, "running", []]);
    expect(pages.map((p) => [p.status, p.body.state, p.body.rows.length])).toEqual([
      [200, "succeeded", 2],
      [200, "succeeded", 2],
      [200, "succeeded", 1],
    ]);
    expect(pages.flatMap((p) => p.body.rows.map((r: { line: number }) => r.line))).toEqual([2, 3, 4, 5, 6]);
    const audits = logger.lines.filter((l) => l.fields?.audit === true);
    expect(audits.map((l) => l.fields)).toEqual([
      expect.objectContaining({ keyName: "ops", search: body, outcome: "ok", id: started.body.id }),
    ]);
  });

  it("never asks Athena for a search without a window, and says so with a 400", async () => {
    const { athena, call } = setUp();

    const refused = await call({
      method: "POST",
      path: "/v1/searches",
      headers: AUTH,
      body: { text: "爬山" },
    });

    expect([refused.status, refused.body.error.message]).toEqual([
      400,
      expect.stringMatching(/needs a window/),
    ]);
    expect(athena.calls).toEqual([]);
  });
});
