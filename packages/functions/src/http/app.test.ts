import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { ArchiveStore, CosSigRequestItem, CosSigResult } from "@imvault/im-core";
import {
  getCosSig,
  hintFor,
  ImApiError,
  ImClient,
  ImTransportError,
  type LocalArchiveStore,
  TimeoutError,
} from "@imvault/im-core";
import { recordingLogger } from "@imvault/im-core/testing";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { describe, expect, it } from "vitest";
import {
  AUTH,
  apiHarness,
  COS,
  cosSig,
  json,
  MOD_TOKEN,
  OPS_TOKEN,
  twoItems,
  useArchiveFixture,
} from "../../testing/api-harness.ts";
import { apiGatewayEvent } from "../../testing/apigw-event.ts";
import type { ApiDeps, ApiHandler } from "./app.ts";

let dir: string;
let store: LocalArchiveStore;
useArchiveFixture((fixture) => {
  ({ dir, store } = fixture);
});

const harness = (overrides: Partial<ApiDeps> = {}) => apiHarness({ store, ...overrides });

describe("GET /v1/health", () => {
  it("answers ok without a token, as JSON, echoing the request id", async () => {
    const { call } = harness();
    const res = await call({ path: "/v1/health", requestId: "req-health-1" });
    expect(res.statusCode).toBe(200);
    expect(json(res)).toEqual({ status: "ok" });
    expect(res.headers?.["content-type"]).toBe("application/json; charset=utf-8");
    expect(res.headers?.["x-request-id"]).toBe("req-health-1");
  });

  it("answers HEAD with 200, the same headers and no body", async () => {
    const { call, counts } = harness();
    const res = await call({ method: "HEAD", path: "/v1/health", requestId: "req-health-2" });
    expect([res.statusCode, res.body]).toEqual([200, ""]);
    expect(res.headers).toMatchObject({
      "content-type": "application/json; charset=utf-8",
      "x-request-id": "req-health-2",
    });
    expect(counts).toEqual([[200, "health"]]);
  });

  it("answers other methods 405 naming GET and HEAD", async () => {
    const res = await harness().call({ method: "POST", path: "/v1/health" });
    expect([res.statusCode, res.headers?.allow]).toEqual([405, "GET, HEAD"]);
  });
});

describe("GET /v1/openapi.json", () => {
  it("needs a token (SPEC: every route but health)", async () => {
    expect((await harness().call({ path: "/v1/openapi.json" })).statusCode).toBe(401);
  });

  it("answers the OpenAPI 3.1 document with the configured item limit", async () => {
    const res = await harness().call({ path: "/v1/openapi.json", headers: AUTH });
    const doc = json(res);
    expect([res.statusCode, doc.openapi]).toEqual([200, "3.1.0"]);
    expect(doc.components.schemas.CosSigRequest.properties.RawURLs.maxItems).toBe(5);
  });
});

describe("POST /v1/cos-sig", () => {
  it("answers Tencent's PreSigURLs items plus StatusText and ExpiresAt, in the request's order", async () => {
    const { call, getCosSig: fake } = harness();
    const res = await call(cosSig(twoItems));
    expect(res.statusCode).toBe(200);
    expect(json(res).PreSigURLs.map((r: CosSigResult) => [r.ResourceID, r.Status, r.StatusText])).toEqual([
      [1, 1, "banned"],
      [2, 2, "missing"],
    ]);
    expect(json(res).PreSigURLs[0]).toMatchObject({
      Code: 0,
      Desc: "",
      ExpiresAt: "2024-03-01T10:45:00.000Z",
    });
    expect(fake).toHaveBeenCalledWith(twoItems.RawURLs, expect.any(AbortSignal));
  });

  it("writes one audit line with the caller's key name, request id, ResourceIDs, paths and statuses", async () => {
    const { call, logger } = harness();
    await call(cosSig(twoItems, { authorization: `Bearer ${OPS_TOKEN}` }, { requestId: "req-audit-7" }));
    const audits = logger.lines.filter((l) => l.fields?.audit === true);
    expect(audits).toHaveLength(1);
    expect(audits[0]?.fields).toMatchObject({
      keyName: "ops",
      requestId: "req-audit-7",
      resources: [
        { ResourceID: 1, path: expect.stringMatching(/aefc6\.png$/) },
        { ResourceID: 2, path: expect.stringMatching(/aefc7\.png$/) },
      ],
      statuses: [
        { ResourceID: 1, status: "banned" },
        { ResourceID: 2, status: "missing" },
      ],
    });
  });

  it("decodes a base64-encoded body (isBase64Encoded)", async () => {
    const res = await harness().call(cosSig(twoItems, AUTH, { base64: true }));
    expect([res.statusCode, json(res).PreSigURLs.length]).toEqual([200, 2]);
  });

  it("answers 413 for a body over the cap, plain or base64, before asking Tencent", async () => {
    const { call, getCosSig: fake } = harness();
    const big = JSON.stringify({ RawURLs: [{ ResourceID: 1, RawURL: `${COS}/${"a".repeat(5000)}` }] });
    for (const base64 of [false, true]) {
      const res = await call(cosSig(big, AUTH, { base64 }));
      expect(res.statusCode).toBe(413);
      expect(json(res).error).toMatchObject({ code: "payload_too_large", details: { limitBytes: 4096 } });
    }
    expect(fake).not.toHaveBeenCalled();
  });

  it.each([
    ["not JSON", "{RawURLs:", /not valid JSON/],
    ["empty", "", /body is empty/],
  ])("answers 400 for a body that is %s", async (_what, body, message) => {
    const res = await harness().call(cosSig(body));
    expect(res.statusCode).toBe(400);
    expect(json(res).error.code).toBe("invalid_request");
    expect(json(res).error.message).toMatch(message);
  });

  const item = (ResourceID: unknown, RawURL: unknown) => ({ ResourceID, RawURL });
  const good = item(1, `${COS}/a.png`);
  it.each([
    ["a JSON array body", [good], /must be a JSON object/],
    ["an extra top-level field", { RawURLs: [good], Extra: true }, /fields other than RawURLs: Extra/],
    ["no RawURLs", {}, /RawURLs must be an array/],
    ["zero items", { RawURLs: [] }, /1 to 5 items, got 0/],
    ["too many items", { RawURLs: [1, 2, 3, 4, 5, 6].map((n) => item(n, `${COS}/${n}.png`)) }, /got 6/],
    [
      "a duplicate ResourceID",
      { RawURLs: [good, item(1, `${COS}/b.png`)] },
      /item 1 \(ResourceID 1\).*already used/,
    ],
    ["a negative ResourceID", { RawURLs: [item(-1, `${COS}/a.png`)] }, /item 0 \(ResourceID -1\)/],
    ["a fractional ResourceID", { RawURLs: [item(0.5, `${COS}/a.png`)] }, /ResourceID must be an integer/],
    [
      "a ResourceID over uint32",
      { RawURLs: [item(2 ** 32, `${COS}/a.png`)] },
      /ResourceID must be an integer/,
    ],
    ["a string ResourceID", { RawURLs: [item("1", `${COS}/a.png`)] }, /item 0: ResourceID must be/],
    ["a missing RawURL", { RawURLs: [{ ResourceID: 1 }] }, /RawURL is missing/],
    ["a non-string RawURL", { RawURLs: [item(1, 42)] }, /RawURL must be a string/],
    ["a relative RawURL", { RawURLs: [item(1, "/a.png")] }, /not an absolute URL/],
    ["an http RawURL", { RawURLs: [item(1, `${COS.replace("https", "http")}/a.png`)] }, /must be https/],
    [
      "a foreign host",
      { RawURLs: [item(1, "https://attacker.example/a.png")] },
      /host attacker\.example is not/,
    ],
    ["an over-long RawURL", { RawURLs: [item(1, `${COS}/${"x".repeat(2100)}`)] }, /more than 2048/],
    ["an extra item field", { RawURLs: [{ ...good, Why: "x" }] }, /fields other than ResourceID and RawURL/],
  ])("answers 400 naming the problem for %s, without asking Tencent", async (_what, body, message) => {
    const { call, getCosSig: fake } = harness();
    const res = await call(cosSig(body));
    expect(res.statusCode).toBe(400);
    expect(json(res).error.message).toMatch(message);
    expect(fake).not.toHaveBeenCalled();
  });

  it("lists every bad item in details with its index and ResourceID", async () => {
    const body = {
      RawURLs: [item(1, "https://evil.example/a"), good, item(3, "ftp://cos.myqcloud.com/a")].map((x, i) =>
        i === 1 ? item(2, `${COS}/ok.png`) : x,
      ),
    };
    const res = await harness().call(cosSig(body));
    expect(
      json(res).error.details.items.map((b: { index: number; ResourceID: number }) => [
        b.index,
        b.ResourceID,
      ]),
    ).toEqual([
      [0, 1],
      [2, 3],
    ]);
  });
});

describe("authentication", () => {
  it.each([
    ["no Authorization header", {}, "missing"],
    ["a Basic header", { authorization: "Basic b3BzOnNlY3JldA==" }, "malformed"],
    ["a bare token", { authorization: OPS_TOKEN }, "malformed"],
    ["a wrong token", { authorization: "Bearer tok-guess-0000000000" }, "invalid"],
  ])(
    "answers 401 with WWW-Authenticate: Bearer for %s, and never calls Tencent",
    async (_what, headers, reason) => {
      const { call, getCosSig: fake, logger } = harness();
      const res = await call(cosSig(twoItems, headers));
      expect(res.statusCode).toBe(401);
      expect(res.headers?.["www-authenticate"]).toBe("Bearer");
      expect(json(res).error).toMatchObject({ code: "unauthorized", details: { reason } });
      expect(fake).not.toHaveBeenCalled();
      expect(logger.lines.some((l) => l.fields?.audit === true)).toBe(false);
    },
  );

  it("answers 400 in the error shape for two Authorization headers (API Gateway joins them with a comma)", async () => {
    const { call, getCosSig: fake, logger } = harness();
    const both = { authorization: `Bearer ${MOD_TOKEN},Bearer ${OPS_TOKEN}` };
    for (const res of [
      await call(cosSig(twoItems, both)),
      await call({ path: "/v1/status", headers: both }),
    ]) {
      expect(res.statusCode).toBe(400);
      expect(json(res).error).toMatchObject({
        code: "invalid_request",
        message: expect.stringMatching(/one Authorization header/),
      });
      expect(res.body).not.toContain(MOD_TOKEN);
    }
    expect(fake).not.toHaveBeenCalled();
    expect(logger.lines.some((l) => l.fields?.audit === true)).toBe(false);
  });

  it("checks the token before the body: an unauthenticated caller learns nothing from validation", async () => {
    const res = await harness().call(cosSig("not json", {}));
    expect(res.statusCode).toBe(401);
  });

  it("lets the right token through and logs its key name with the request", async () => {
    const { call, logger } = harness();
    const res = await call({ path: "/v1/status", headers: { authorization: `Bearer ${OPS_TOKEN}` } });
    expect(res.statusCode).toBe(200);
    expect(logger.lines.find((l) => l.message === "api request")?.fields).toMatchObject({
      keyName: "ops",
      status: 200,
    });
  });
});

describe("upstream errors from get_cos_sig", () => {
  const tencent = (code: number) =>
    new ImApiError({
      command: "im_cos_msg/get_cos_sig",
      code,
      info: "error",
      requestId: "tc-req-9",
      retryable: false,
      hint: hintFor(code),
    });
  it.each([
    ["Tencent 60007 (rate)", 429, tencent(60007), "10", /60007/],
    ["Tencent 60011 (app rate)", 429, tencent(60011), "10", /60011/],
    ["Tencent 60018 (too frequent)", 429, tencent(60018), "10", /60018/],
    ["Tencent 60019 (too frequent)", 429, tencent(60019), "10", /60019/],
    ["Tencent 70050 (bad sig, locked)", 429, tencent(70050), "60", /70050.*IM_SECRET_KEY/],
    [
      "HTTP 429 in front of Tencent",
      429,
      new ImTransportError("answered HTTP 429", { status: 429 }),
      "10",
      /429/,
    ],
    ["Tencent 60008 (timeout)", 504, tencent(60008), undefined, /60008/],
    ["a TimeoutError", 504, new TimeoutError("did not answer within 20000 ms"), undefined, /20000 ms/],
    [
      "the request deadline",
      504,
      new DOMException("aborted due to timeout", "TimeoutError"),
      undefined,
      /ran out of time/,
    ],
    ["Tencent 70009 (wrong key)", 502, tencent(70009), undefined, /70009.*IM_SECRET_KEY/],
    ["Tencent 60006 (bad app id)", 502, tencent(60006), undefined, /60006.*IM_SDKAPPID/],
    ["Tencent 70020 (wrong region)", 502, tencent(70020), undefined, /70020.*IM_REGION/],
    [
      "a transport failure",
      502,
      new ImTransportError("ECONNREFUSED", { status: 502 }),
      undefined,
      /IM_BASE_URL/,
    ],
    ["an unexpected Error", 500, new Error("kaboom at /srv/secret/path"), undefined, /^internal error/],
  ])("maps %s to %i", async (_what, status, error, retryAfter, message) => {
    const { call, logger } = harness({ getCosSig: async () => Promise.reject(error) });
    const res = await call(cosSig(twoItems));
    expect(res.statusCode).toBe(status);
    expect(res.headers?.["retry-after"]).toBe(retryAfter);
    expect(json(res).error.message).toMatch(message);
    expect(res.body).not.toContain("kaboom");
    // The failed lookup is still audited under the caller's key.
    expect(
      logger.lines.filter((l) => l.fields?.audit === true && l.fields.keyName === "moderation"),
    ).toHaveLength(1);
  });
});

describe("GET /v1/archive/{chatType}/{msgTime}", () => {
  it("answers an archived hour's manifest with a 300 s download URL per file", async () => {
    const res = await harness().call({ path: "/v1/archive/C2C/2024030116", headers: AUTH });
    expect(res.statusCode).toBe(200);
    const body = json(res);
    expect(body.manifest).toMatchObject({ chatType: "C2C", msgTime: "2024030116", status: "archived" });
    expect(body.downloads).toEqual([
      {
        key: "raw/chat_type=C2C/dt=2024-03-01/hour=16/a.gz",
        url: "https://files.test/raw/chat_type=C2C/dt=2024-03-01/hour=16/a.gz?ttl=300",
        expiresAt: "2024-03-01T10:35:00.000Z",
      },
      {
        key: "raw/chat_type=C2C/dt=2024-03-01/hour=16/b.gz",
        url: "https://files.test/raw/chat_type=C2C/dt=2024-03-01/hour=16/b.gz?ttl=300",
        expiresAt: "2024-03-01T10:35:00.000Z",
      },
    ]);
    expect(res.headers?.["cache-control"]).toBe("no-store");
  });

  it("answers an empty hour with its manifest and no downloads", async () => {
    const res = await harness().call({ path: "/v1/archive/Group/2024030117", headers: AUTH });
    expect([res.statusCode, json(res).manifest.status, json(res).downloads]).toEqual([200, "empty", []]);
  });

  it("takes the chat type in any letter case, as the CLI's --chat-type does", async () => {
    const { call } = harness();
    const lower = await call({ path: "/v1/archive/c2c/2024030116", headers: AUTH });
    const canonical = await call({ path: "/v1/archive/C2C/2024030116", headers: AUTH });
    const group = await call({ path: "/v1/archive/GROUP/2024030117", headers: AUTH });
    expect([lower.statusCode, group.statusCode]).toEqual([200, 200]);
    expect(json(lower)).toEqual(json(canonical));
    expect(json(group).manifest.chatType).toBe("Group");
  });

  it("answers 404 naming the hour for an hour not archived", async () => {
    const res = await harness().call({ path: "/v1/archive/C2C/2024030110", headers: AUTH });
    expect(res.statusCode).toBe(404);
    expect(json(res).error).toMatchObject({
      code: "not_found",
      message: expect.stringMatching(/hour 2024030110 .*C2C is not archived/),
      details: { chatType: "C2C", msgTime: "2024030110" },
    });
  });

  it.each([
    ["/v1/archive/Private/2024030116", /chatType "Private"/],
    ["/v1/archive/C2C/20240301", /not 10 digits/],
    ["/v1/archive/C2C/2024022916x", /not 10 digits/],
    ["/v1/archive/C2C/2023022912", /day 29 does not exist/],
    ["/v1/archive/C2C/%E0%A4%A", /percent-encoding/],
  ])("answers 400 for %s", async (path, message) => {
    const res = await harness().call({ path, headers: AUTH });
    expect(res.statusCode).toBe(400);
    expect(json(res).error.message).toMatch(message);
  });
});

describe("GET /v1/status", () => {
  it("shows LOOKBACK_HOURS ended hours by default, both chat types", async () => {
    const res = await harness().call({ path: "/v1/status", headers: AUTH });
    const body = json(res);
    expect([res.statusCode, body.hours, body.from, body.to, body.rows.length]).toEqual([
      200,
      3,
      "2024030115",
      "2024030117",
      6,
    ]);
    expect(body.totals).toEqual({ archived: 1, empty: 1, expired: 0, missing: 4 });
  });

  it("shows N hours for ?hours=N", async () => {
    const body = json(await harness().call({ path: "/v1/status?hours=1", headers: AUTH }));
    expect(body.rows.map((r: { chatType: string; status: string }) => [r.chatType, r.status])).toEqual([
      ["C2C", "missing"],
      ["Group", "empty"],
    ]);
  });

  it.each(["0", "745", "abc", "2.5"])("answers 400 for hours=%s", async (hours) => {
    const res = await harness().call({ path: `/v1/status?hours=${hours}`, headers: AUTH });
    expect(res.statusCode).toBe(400);
    expect(json(res).error.message).toMatch(/hours must be a whole number from 1 to 744/);
  });
});

describe("request bodies", () => {
  it.each([
    ["/v1/searches", "[]", /must be a JSON object \(it is an array\): send \{"from","to"/],
    ["/v1/searches", "42", /must be a JSON object \(it is a number\)/],
    ["/v1/cos-sig", "null", /must be a JSON object \(it is null\): send \{"RawURLs"/],
    ["/v1/cos-sig", '"RawURLs"', /must be a JSON object \(it is a string\)/],
  ])(
    "refuses a body that is not an object (POST %s %s) with 400, showing the shape to send",
    async (path, body, message) => {
      const res = await harness().call({ method: "POST", path, headers: AUTH, body });

      expect(res.statusCode).toBe(400);
      expect(json(res).error.message).toMatch(message);
    },
  );
});

describe("query parameters", () => {
  it.each([
    ["/v1/status?bogus=1", /unknown query parameter "bogus": GET \/v1\/status takes hours/],
    ["/v1/status?hour=6", /unknown query parameter "hour": GET \/v1\/status takes hours/],
    ["/v1/media/banned?form=2024030100", /"form": GET \/v1\/media\/banned takes from, to/],
    ["/v1/openapi.json?x=1", /"x": GET \/v1\/openapi.json takes no query parameter/],
  ])("refuses one the route does not take (%s) with 400, naming those it takes", async (path, message) => {
    const res = await harness().call({ path, headers: AUTH });

    expect(res.statusCode).toBe(400);
    expect(json(res).error.message).toMatch(message);
  });

  it("asks for the key before looking at the query", async () => {
    const res = await harness().call({ path: "/v1/status?bogus=1" });

    expect(res.statusCode).toBe(401);
  });

  it("lets a health probe append what it likes", async () => {
    const res = await harness().call({ path: "/v1/health?probe=lb-1" });

    expect([res.statusCode, json(res)]).toEqual([200, { status: "ok" }]);
  });
});

describe("routing", () => {
  it("answers 404 for an unknown path, even without a token", async () => {
    const res = await harness().call({ path: "/v2/cos-sig" });
    expect(res.statusCode).toBe(404);
    expect(json(res).error.message).toMatch(/no route GET \/v2\/cos-sig/);
    expect(json(res).error.message).toMatch(/GET \/v1\/openapi.json \(with an API key\) lists them/);
  });

  it("answers 405 with Allow for a known path and the wrong method", async () => {
    const res = await harness().call({ method: "GET", path: "/v1/cos-sig", headers: AUTH });
    expect([res.statusCode, res.headers?.allow, json(res).error.code]).toEqual([
      405,
      "POST",
      "method_not_allowed",
    ]);
  });

  it("tolerates a trailing slash and a named stage's prefix in rawPath", async () => {
    const { handle } = harness();
    expect((await handle(apiGatewayEvent({ path: "/v1/health/" }))).statusCode).toBe(200);
    const staged = apiGatewayEvent({ path: "/prod/v1/health" });
    staged.requestContext.stage = "prod";
    expect((await handle(staged)).statusCode).toBe(200);
  });

  it("counts ApiRequests by status and route name", async () => {
    const { call, counts } = harness();
    await call({ path: "/v1/health" });
    await call({ path: "/v1/archive/C2C/2024030110", headers: AUTH });
    await call({ path: "/nope" });
    expect(counts).toEqual([
      [200, "health"],
      [404, "archive"],
      [404, "unmatched"],
    ]);
  });

  it("logs one access line per request with the request id and no body", async () => {
    const { call, logger } = harness();
    await call(cosSig(twoItems, AUTH, { requestId: "req-access-1" }));
    const access = logger.lines.filter((l) => l.message === "api request");
    expect(access).toHaveLength(1);
    expect(access[0]?.fields).toMatchObject({
      requestId: "req-access-1",
      method: "POST",
      route: "cos-sig",
      status: 200,
    });
  });
});

describe("secrets", () => {
  it("never puts the IM secret key, a UserSig or an API token in a response body or a log line", async () => {
    const SECRET = "imvault-test-secret-key-4f9d2a7c1e8b";
    const GUESS = "tok-guess-Qw8Er7Ty6Ui5";
    const logger = recordingLogger();
    const sigs = new Set<string>();
    let mode: "ok" | "echo" | "network" = "ok";
    const fetchStub = (async (input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(String(input));
      const sig = url.searchParams.get("usersig") ?? "";
      sigs.add(sig);
      if (mode === "network") {
        throw new TypeError(`fetch failed: ${url.href}`, {
          cause: Object.assign(new Error(`connect to ${url.href}`), { code: "ECONNRESET" }),
        });
      }
      if (mode === "echo") {
        return Response.json({
          ActionStatus: "FAIL",
          ErrorCode: 70009,
          ErrorInfo: `bad sig ${sig} key ${SECRET}`,
        });
      }
      const body = JSON.parse(String(init?.body)) as { RawURLs: CosSigRequestItem[] };
      return Response.json({
        ActionStatus: "OK",
        ErrorCode: 0,
        ErrorInfo: "",
        PreSigURLs: body.RawURLs.map((i) => ({
          ResourceID: i.ResourceID,
          Code: 0,
          Desc: "",
          PreSigURL: `${i.RawURL}?sign=x`,
          Status: 0,
        })),
      });
    }) as typeof fetch;
    const client = new ImClient({
      sdkAppId: 1400000001,
      identifier: "administrator",
      secretKey: SECRET,
      baseUrl: "https://console.tim.qq.com",
      fetch: fetchStub,
      maxAttempts: 1,
      ratePerSecond: 1000,
      logger,
    });
    const brokenStore: ArchiveStore = {
      ...store,
      get: async () => {
        throw new Error(`disk failure while holding ${SECRET}`);
      },
    };
    // As functions/api.ts wires it: the handler knows the secret key only to blank it from what it logs.
    const { handle } = harness({
      getCosSig: (items, signal) => getCosSig(client, items, signal === undefined ? {} : { signal }),
      logger,
      secrets: [SECRET],
    });
    const { handle: broken } = harness({ store: brokenStore, logger, secrets: [SECRET] });

    const responses: APIGatewayProxyStructuredResultV2[] = [];
    const send = async (h: ApiHandler, event: APIGatewayProxyEventV2) => responses.push(await h(event));
    for (const m of ["ok", "echo", "network"] as const) {
      mode = m;
      await send(handle, apiGatewayEvent(cosSig(twoItems)));
      await send(handle, apiGatewayEvent(cosSig(twoItems, { authorization: `Bearer ${OPS_TOKEN}` })));
    }
    await send(handle, apiGatewayEvent(cosSig(twoItems, { authorization: `Bearer ${GUESS}` })));
    await send(handle, apiGatewayEvent({ path: "/v1/status", headers: AUTH }));
    await send(broken, apiGatewayEvent({ path: "/v1/archive/C2C/2024030116", headers: AUTH }));

    // Arrange sanity: the three modes produced success, a 502 and another 502; a sig was really made.
    expect(responses.map((r) => r.statusCode)).toEqual([200, 200, 502, 502, 502, 502, 401, 200, 500]);
    expect(sigs.size).toBeGreaterThan(0);
    const everything = JSON.stringify({ responses, logs: logger.lines });
    for (const secret of [SECRET, OPS_TOKEN, MOD_TOKEN, GUESS, ...sigs]) {
      expect(everything).not.toContain(secret);
    }
    // And the operator still learns what went wrong.
    expect(JSON.parse(responses[2]?.body ?? "").error.message).toMatch(/70009.*IM_SECRET_KEY/);
  });
});

describe("the Lambda entry point (module-level handler, configured from the environment)", () => {
  it("serves lookups through a real ImClient against IM_BASE_URL and local archive files under DATA_DIR", async () => {
    const seen: { path: string; body: unknown }[] = [];
    const server = createServer((req, res) => {
      let text = "";
      req.on("data", (c) => {
        text += c;
      });
      req.on("end", () => {
        const body = JSON.parse(text) as { RawURLs: CosSigRequestItem[] };
        seen.push({ path: new URL(req.url ?? "/", "http://x").pathname, body });
        res.setHeader("content-type", "application/json");
        res.end(
          JSON.stringify({
            ActionStatus: "OK",
            ErrorCode: 0,
            ErrorInfo: "",
            PreSigURLs: body.RawURLs.map((i) => ({
              ResourceID: i.ResourceID,
              Code: 0,
              Desc: "",
              PreSigURL: `${i.RawURL}?sign=s`,
              Status: 1,
            })),
          }),
        );
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const env = {
      IM_SDKAPPID: "1400000001",
      IM_SECRET_KEY: "module-test-secret-key-8c1d",
      IM_BASE_URL: `http://127.0.0.1:${port}`,
      DATA_DIR: dir,
      API_KEYS: `ops:${OPS_TOKEN},moderation:${MOD_TOKEN}`,
      IMVAULT_PUBLIC_URL: "http://127.0.0.1:3999",
      IMVAULT_URL_SIGNING_KEY: "local-url-signing-key-0123456789",
      POWERTOOLS_LOG_LEVEL: "SILENT",
      POWERTOOLS_METRICS_DISABLED: "true",
    };
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);
    try {
      // The module reads its configuration when imported, as in Lambda.
      const { handler } = await import("../api.ts");
      const lookup = await handler(apiGatewayEvent(cosSig(twoItems)));
      expect(lookup.statusCode).toBe(200);
      expect(JSON.parse(lookup.body ?? "").PreSigURLs.map((r: CosSigResult) => r.StatusText)).toEqual([
        "banned",
        "banned",
      ]);
      expect(seen).toEqual([{ path: "/v4/im_cos_msg/get_cos_sig", body: twoItems }]);

      const hour = await handler(apiGatewayEvent({ path: "/v1/archive/C2C/2024030116", headers: AUTH }));
      expect(hour.statusCode).toBe(200);
      expect(JSON.parse(hour.body ?? "").downloads[0].url).toMatch(
        /^http:\/\/127\.0\.0\.1:3999\/files\/raw\/chat_type%3DC2C\/dt%3D2024-03-01\/hour%3D16\/a\.gz\?expires=\d+&sig=/,
      );

      expect((await handler(apiGatewayEvent({ path: "/v1/status" }))).statusCode).toBe(401);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      server.close();
      await once(server, "close");
    }
  });
});
