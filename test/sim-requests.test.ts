import { type Simulator, startSimulator, TEST_ADMIN } from "@imvault/im-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COS_SIG, call, HISTORY, READY_HOUR, StepClock } from "./sim-helpers.ts";

// Request checks the way Tencent's gateway makes them, answered in the envelope with HTTP 200.
describe("im-sim request checks", () => {
  const clock = new StepClock();
  let sim: Simulator;
  const history = { ChatType: "C2C", MsgTime: READY_HOUR };

  beforeAll(async () => {
    sim = await startSimulator({
      clock,
      seed: "requests",
      volume: 20,
      admins: [TEST_ADMIN, "ops_admin"],
      rateLimitPerSecond: 1000,
    });
  });
  afterAll(() => sim.close());

  const code = async (body: unknown, o: Parameters<typeof call>[3] = {}) => {
    const r = await call(sim.url, clock, body, o);
    expect(r.status).toBe(200);
    expect(r.json.ActionStatus).toBe(r.json.ErrorCode === 0 ? "OK" : "FAIL");
    expect(typeof r.json.RequestId).toBe("string");
    return r.json.ErrorCode;
  };

  it("answers a well-formed get_history from an admin with OK and its files", async () => {
    const r = await call(sim.url, clock, history);

    expect(r.json).toMatchObject({ ActionStatus: "OK", ErrorCode: 0, ErrorInfo: "" });
    expect((r.json.File as unknown[]).length).toBe(1);
  });

  it("accepts any configured admin", async () => {
    expect(await code(history, { identifier: "ops_admin" })).toBe(0);
  });

  it("answers 1001 for an unknown service or command", async () => {
    expect(await code(history, { path: "/v4/open_msg_svc/get_histories" })).toBe(1001);
    expect(await code(history, { path: "/v4/nope/get_history" })).toBe(1001);
  });

  it("answers 60002 for a method other than POST", async () => {
    expect(await code(undefined, { method: "GET" })).toBe(60002);
    expect(await code(history, { method: "PUT" })).toBe(60002);
  });

  it("answers 60006 for a missing or non-numeric sdkappid and 70016 for an app it does not host", async () => {
    expect(await code(history, { sdkappid: null })).toBe(60006);
    expect(await code(history, { sdkappid: "abc" })).toBe(60006);
    expect(await code(history, { sdkappid: "1400000001", sigAppId: 1400000001 })).toBe(70016);
  });

  it("answers 60002 unless random is a uint32 and contenttype is json", async () => {
    expect(await code(history, { random: null })).toBe(60002);
    expect(await code(history, { random: "-1" })).toBe(60002);
    expect(await code(history, { random: "4294967296" })).toBe(60002);
    expect(await code(history, { random: "12ab" })).toBe(60002);
    expect(await code(history, { random: "4294967295" })).toBe(0);
    expect(await code(history, { random: "0" })).toBe(0);
    expect(await code(history, { contenttype: null })).toBe(60002);
    expect(await code(history, { contenttype: "xml" })).toBe(60002);
  });

  it("maps every UserSig failure to Tencent's code", async () => {
    const now = Math.floor(clock.now() / 1000);

    expect(await code(history, { usersig: null })).toBe(70003);
    expect(await code(history, { usersig: "not-a-sig" })).toBe(70003);
    expect(await code(history, { secretKey: "wrong key" })).toBe(70009);
    expect(await code(history, { sigIdentifier: "someone_else" })).toBe(70013);
    expect(await code(history, { sigAppId: 1400000009 })).toBe(70014);
    expect(await code(history, { issuedAt: now - 100, expireSeconds: 99 })).toBe(70001);
    expect(await code(history, { issuedAt: now - 100, expireSeconds: 100 })).toBe(0);
  });

  it("checks sigs for get_cos_sig the same way", async () => {
    const body = { RawURLs: [{ ResourceID: 1, RawURL: "https://cos.ap-shanghai.myqcloud.com/a/b/c/d.png" }] };

    expect(await code(body, { path: COS_SIG, secretKey: "wrong key" })).toBe(70009);
    expect(await code(body, { path: COS_SIG })).toBe(0);
  });

  it("refuses a non-admin identifier with 1002 on get_history and 60010 on get_cos_sig", async () => {
    const body = { RawURLs: [{ ResourceID: 1, RawURL: "https://cos.ap-shanghai.myqcloud.com/a/b/c/d.png" }] };

    expect(await code(history, { identifier: "alice" })).toBe(1002);
    expect(await code(body, { path: COS_SIG, identifier: "alice" })).toBe(60010);
  });

  it("answers 60003 for a body that is not JSON or not an object", async () => {
    expect(await code(undefined, { rawBody: "{ChatType:" })).toBe(60003);
    expect(await code(undefined, { rawBody: "" })).toBe(60003);
    expect(await code(["C2C"])).toBe(60003);
  });

  it("answers 1002 for a bad ChatType or MsgTime", async () => {
    expect(await code({ MsgTime: READY_HOUR })).toBe(1002);
    expect(await code({ ChatType: "c2c", MsgTime: READY_HOUR })).toBe(1002);
    expect(await code({ ChatType: "C2C" })).toBe(1002);
    expect(await code({ ChatType: "C2C", MsgTime: 2024030118 })).toBe(1002);
    expect(await code({ ChatType: "C2C", MsgTime: "20240301" })).toBe(1002);
    expect(await code({ ChatType: "C2C", MsgTime: "2024023018" })).toBe(1002);
    expect(await code({ ChatType: "C2C", MsgTime: "2024030124" })).toBe(1002);
  });

  it("records what it saw, with the answer's code, and never the usersig", async () => {
    sim.requests.length = 0;
    await call(sim.url, clock, history, { random: "42" });
    await call(sim.url, clock, history, { identifier: "alice", random: "43" });
    const json = JSON.stringify(sim.requests);

    expect(sim.requests).toHaveLength(2);
    expect(sim.requests[0]).toMatchObject({
      method: "POST",
      path: HISTORY,
      command: "get_history",
      sdkappid: "1400000000",
      identifier: TEST_ADMIN,
      random: "42",
      contenttype: "json",
      body: history,
      httpStatus: 200,
      code: 0,
    });
    expect(sim.requests[1]).toMatchObject({ identifier: "alice", code: 1002 });
    expect(json).not.toMatch(/usersig/i);
    expect(json).not.toContain("eJ"); // every zlib-then-base64 UserSig starts with "eJ"
  });
});

describe("im-sim rate limit", () => {
  it("answers 60007 past N calls per second per command, and lets calls through again the next second", async () => {
    const clock = new StepClock();
    const sim = await startSimulator({ clock, seed: "rate", volume: 5, rateLimitPerSecond: 3 });
    try {
      const codes = [];
      for (let i = 0; i < 5; i++)
        codes.push((await call(sim.url, clock, { ChatType: "C2C", MsgTime: READY_HOUR })).json.ErrorCode);
      const other = await call(
        sim.url,
        clock,
        { RawURLs: [{ ResourceID: 1, RawURL: "https://x.invalid/a" }] },
        { path: COS_SIG },
      );
      clock.advance(1000);
      const after = await call(sim.url, clock, { ChatType: "C2C", MsgTime: READY_HOUR });

      expect(codes).toEqual([0, 0, 0, 60007, 60007]);
      expect(other.json.ErrorCode).toBe(0);
      expect(after.json.ErrorCode).toBe(0);
    } finally {
      await sim.close();
    }
  });
});

describe("im-sim options", () => {
  it("writes downloadBaseUrl into download URLs instead of its own origin", async () => {
    const clock = new StepClock();
    const sim = await startSimulator({ clock, volume: 3, downloadBaseUrl: "http://proxy.invalid:9/" });
    try {
      const r = await call(sim.url, clock, { ChatType: "C2C", MsgTime: READY_HOUR });

      expect((r.json.File as { URL: string }[])[0]!.URL).toMatch(
        /^http:\/\/proxy\.invalid:9\/download\/[^/]+\/[^/]+\.gz$/,
      );
    } finally {
      await sim.close();
    }
  });

  it("remembers at most maxRecords requests, dropping the oldest", async () => {
    const clock = new StepClock();
    const sim = await startSimulator({ clock, volume: 3, maxRecords: 2 });
    try {
      for (const random of ["1", "2", "3"])
        await call(sim.url, clock, { ChatType: "C2C", MsgTime: READY_HOUR }, { random });

      expect(sim.requests.map((r) => r.random)).toEqual(["2", "3"]);
    } finally {
      await sim.close();
    }
  });

  it("refuses nonsense options at start", async () => {
    await expect(startSimulator({ gzipLevel: 12 })).rejects.toThrow(/gzipLevel/);
    await expect(startSimulator({ bannedFraction: 1.5 })).rejects.toThrow(/bannedFraction/);
  });
});
