import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { formatBeijing, getHistory, hourEnd, hourStart, ImClient, readGzipHistory } from "@imvault/im-core";
import { type Simulator, startSimulator, TEST_ADMIN, TEST_SDKAPPID, TEST_SECRET_KEY } from "@imvault/im-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, type FileEntry, historyFiles, READY_HOUR, StepClock } from "./sim-helpers.ts";

const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");
const HOUR = 3_600_000;

/** Downloads a file, checks it against its advertised figures, and parses it with im-core's reader. */
async function fetchAndVerify(entry: FileEntry) {
  const res = await fetch(entry.URL);
  expect(res.status).toBe(200);
  const gz = Buffer.from(await res.arrayBuffer());
  const plain = gunzipSync(gz);
  const messages: Record<string, unknown>[] = [];
  let header: Record<string, unknown> | undefined;
  for await (const ev of readGzipHistory(gz)) {
    if (ev.kind === "header") header = ev.header;
    else messages.push(ev.message);
  }
  expect({ size: gz.length, md5: md5(gz), fileSize: plain.length, fileMd5: md5(plain) }).toEqual({
    size: entry.GzipSize,
    md5: entry.GzipMD5,
    fileSize: entry.FileSize,
    fileMd5: entry.FileMD5,
  });
  return { gz, header: header!, messages };
}

describe("im-sim get_history downloads", () => {
  const clock = new StepClock();
  let sim: Simulator;
  const volumes: Record<string, number> = { "2024030115": 1, "2024030116": 2000, "2024030117": 20_000 };

  beforeAll(async () => {
    sim = await startSimulator({
      clock,
      seed: "history",
      volume: (_c, t) => volumes[t] ?? 50,
      maxFileBytes: 2 * 1024 * 1024,
      rateLimitPerSecond: 1000,
    });
  });
  afterAll(() => sim.close());

  for (const [msgTime, count] of Object.entries({ "2024030115": 1, "2024030116": 2000 })) {
    it(`serves a ${count}-message hour that parses and matches its advertised sizes and MD5s`, async () => {
      const files = await historyFiles(sim.url, clock, "Group", msgTime);
      const { header, messages } = await fetchAndVerify(files[0]!);

      expect(files).toHaveLength(1);
      expect(header).toEqual({ SdkAppId: TEST_SDKAPPID, ChatType: "Group", MsgTime: msgTime });
      expect(messages).toHaveLength(count);
      expect(new URL(files[0]!.URL).pathname).toMatch(new RegExp(`/${TEST_SDKAPPID}_Group_${msgTime}\\.gz$`));
    });
  }

  it("splits a busy hour into several files, each complete, together holding every message once", async () => {
    const files = await historyFiles(sim.url, clock, "C2C", "2024030117");
    let total = 0;
    const seen = new Set<string>();
    for (const [i, f] of files.entries()) {
      const { header, messages } = await fetchAndVerify(f);
      expect(header.MsgTime).toBe("2024030117");
      expect(new URL(f.URL).pathname).toMatch(new RegExp(`_C2C_2024030117_${i + 1}\\.gz$`));
      total += messages.length;
      for (const m of messages) seen.add(`${m.MsgSeq}|${m.MsgRandom}`);
      if (i < files.length - 1) expect(f.FileSize).toBeGreaterThanOrEqual(2 * 1024 * 1024);
    }

    expect(files.length).toBeGreaterThanOrEqual(3);
    expect(total).toBe(20_000);
    expect(seen.size).toBe(20_000);
  });

  it("gives ExpireTime in Beijing time, urlTtlSeconds ahead", async () => {
    const [f] = await historyFiles(sim.url, clock, "C2C", READY_HOUR);

    expect(f!.ExpireTime).toBe(formatBeijing(clock.now() + 3600_000));
    expect(f!.ExpireTime).toBe("2024-03-01 21:00:00");
  });

  it("serves byte ranges (206) and HEAD without a body", async () => {
    const [f] = await historyFiles(sim.url, clock, "Group", "2024030116");
    const whole = Buffer.from(await (await fetch(f!.URL)).arrayBuffer());
    const part = await fetch(f!.URL, { headers: { range: "bytes=100-199" } });
    const tail = await fetch(f!.URL, { headers: { range: "bytes=1000-" } });
    const head = await fetch(f!.URL, { method: "HEAD" });
    const bad = await fetch(f!.URL, { headers: { range: `bytes=${f!.GzipSize}-` } });

    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 100-199/${f!.GzipSize}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(whole.subarray(100, 200))).toBe(true);
    expect(Buffer.from(await tail.arrayBuffer()).equals(whole.subarray(1000))).toBe(true);
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(f!.GzipSize));
    expect((await head.arrayBuffer()).byteLength).toBe(0);
    expect(bad.status).toBe(416);
  });

  it("refuses a download after ExpireTime and a tampered URL with 403", async () => {
    const [f] = await historyFiles(sim.url, clock, "C2C", "2024030115");
    const token = new URL(f!.URL).pathname.split("/")[2]!;
    const tampered = f!.URL.replace(token, `${token.slice(0, -2)}${token.endsWith("AA") ? "AB" : "AA"}`);
    const before = await fetch(f!.URL);
    await before.arrayBuffer();
    const forged = await fetch(tampered);
    clock.advance(3600_000 - 1);
    const lastMs = await fetch(f!.URL);
    await lastMs.arrayBuffer();
    clock.advance(1);
    const after = await fetch(f!.URL);

    expect(before.status).toBe(200);
    expect(lastMs.status).toBe(200);
    expect(forged.status).toBe(403);
    expect(after.status).toBe(403);
    expect(await after.text()).toContain("AccessDenied");
    expect(sim.downloads.at(-1)).toMatchObject({ status: 403, target: "history", complete: false });
    clock.advance(-3600_000);
  });

  it("records each download with the bytes sent and whether it completed", async () => {
    const [f] = await historyFiles(sim.url, clock, "Group", "2024030115");
    await (await fetch(f!.URL)).arrayBuffer();
    await new Promise((r) => setTimeout(r, 20));

    expect(sim.downloads.at(-1)).toMatchObject({
      target: "history",
      chatType: "Group",
      msgTime: "2024030115",
      fileIndex: 0,
      status: 200,
      bytesExpected: f!.GzipSize,
      bytesSent: f!.GzipSize,
      complete: true,
      ended: true,
    });
  });
});

describe("im-sim determinism", () => {
  it("serves the same bytes from two simulators with the same seed, and other bytes with another seed", async () => {
    const clock = new StepClock();
    const sims = await Promise.all(
      ["same", "same", "different"].map((seed) => startSimulator({ clock, seed })),
    );
    try {
      const bodies = [];
      for (const s of sims) {
        const [f] = await historyFiles(s.url, clock, "C2C", READY_HOUR);
        bodies.push({ md5: f!.GzipMD5, bytes: Buffer.from(await (await fetch(f!.URL)).arrayBuffer()) });
      }

      expect(bodies[0]!.bytes.equals(bodies[1]!.bytes)).toBe(true);
      expect(bodies[0]!.md5).toBe(bodies[1]!.md5);
      expect(bodies[2]!.md5).not.toBe(bodies[0]!.md5);
    } finally {
      await Promise.all(sims.map((s) => s.close()));
    }
  });
});

describe("im-sim hour availability (1004 / 1005)", () => {
  const clock = new StepClock();
  let sim: Simulator;
  const MSG = "2024030112";
  const end = hourEnd(MSG);

  beforeAll(async () => {
    sim = await startSimulator({
      clock,
      seed: "edges",
      volume: (c, t) => (c === "Group" && t === "2024030113" ? 0 : 10),
      processingDelayMinutes: 90,
      retentionHours: 72,
      emptyHours: ["C2C:2024030114"],
      rateLimitPerSecond: 1000,
    });
  });
  afterAll(() => sim.close());

  const codeAt = async (now: number, chatType: string, msgTime: string) => {
    clock.t = now;
    return (await call(sim.url, clock, { ChatType: chatType, MsgTime: msgTime })).json.ErrorCode;
  };

  it("answers 1004 for an hour not yet over, or over for less than the processing delay, then 0", async () => {
    expect(await codeAt(hourStart(MSG) + 10 * 60_000, "C2C", MSG)).toBe(1004);
    expect(await codeAt(end + 90 * 60_000 - 1, "C2C", MSG)).toBe(1004);
    expect(sim.requests.at(-1)?.reason).toBe("not-ready");
    expect(await codeAt(end + 90 * 60_000, "C2C", MSG)).toBe(0);
  });

  it("answers 1004 for hours far in the future", async () => {
    expect(await codeAt(end + 2 * HOUR, "Group", "2030010100")).toBe(1004);
  });

  it("answers 1005 once the hour is older than the retention, and not a millisecond before", async () => {
    expect(await codeAt(end + 72 * HOUR - 1, "Group", MSG)).toBe(0);
    expect(await codeAt(end + 72 * HOUR, "Group", MSG)).toBe(1005);
    expect(await codeAt(end + 400 * HOUR, "C2C", MSG)).toBe(1005);
  });

  it("answers 1004 (reason empty) for configured empty hours and zero-message hours, however old", async () => {
    const late = hourEnd("2024030114") + 10 * HOUR;

    expect(await codeAt(late, "C2C", "2024030114")).toBe(1004);
    expect(sim.requests.at(-1)?.reason).toBe("empty");
    expect(await codeAt(late, "Group", "2024030114")).toBe(0);
    expect(await codeAt(late, "Group", "2024030113")).toBe(1004);
    expect(sim.requests.at(-1)?.reason).toBe("empty");
  });

  it("accepts a predicate for empty hours", async () => {
    const s = await startSimulator({ clock, emptyHours: (c, t) => c === "Group" && t.endsWith("03") });
    try {
      clock.t = hourEnd("2024030103") + 2 * HOUR;
      expect((await call(s.url, clock, { ChatType: "Group", MsgTime: "2024030103" })).json.ErrorCode).toBe(
        1004,
      );
      expect((await call(s.url, clock, { ChatType: "C2C", MsgTime: "2024030103" })).json.ErrorCode).toBe(0);
    } finally {
      await s.close();
    }
  });
});

describe("im-sim with im-core's client", () => {
  it("answers getHistory through ImClient, and the files it lists download and verify", async () => {
    const clock = new StepClock();
    const sim = await startSimulator({ clock, seed: "client", volume: 300 });
    try {
      const client = new ImClient({
        sdkAppId: TEST_SDKAPPID,
        identifier: TEST_ADMIN,
        secretKey: TEST_SECRET_KEY,
        baseUrl: sim.url,
        clock,
        maxAttempts: 1,
      });
      const files = await getHistory(client, "C2C", READY_HOUR);
      const { messages } = await fetchAndVerify({
        URL: files[0]!.url,
        ExpireTime: files[0]!.expireTimeText,
        FileSize: files[0]!.fileSize,
        FileMD5: files[0]!.fileMd5,
        GzipSize: files[0]!.gzipSize,
        GzipMD5: files[0]!.gzipMd5,
      });

      expect(files).toHaveLength(1);
      expect(files[0]!.expiresAt.getTime()).toBe(clock.now() + 3600_000);
      expect(messages).toHaveLength(300);
      expect(sim.requests.at(-1)).toMatchObject({ command: "get_history", code: 0, identifier: TEST_ADMIN });
    } finally {
      await sim.close();
    }
  });

  it("surfaces 1004 from the simulator as the client's ImApiError with that code", async () => {
    const clock = new StepClock();
    const sim = await startSimulator({ clock });
    try {
      const client = new ImClient({
        sdkAppId: TEST_SDKAPPID,
        identifier: TEST_ADMIN,
        secretKey: TEST_SECRET_KEY,
        baseUrl: sim.url,
        clock,
        maxAttempts: 1,
      });

      await expect(getHistory(client, "C2C", "2024030119")).rejects.toMatchObject({ code: 1004 });
    } finally {
      await sim.close();
    }
  });
});
