import { createHash } from "node:crypto";
import { getHistory, ImClient } from "@imvault/im-core";
import { type Simulator, startSimulator, TEST_ADMIN, TEST_SDKAPPID, TEST_SECRET_KEY } from "@imvault/im-sim";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { COS_SIG, call, historyFiles, READY_HOUR, StepClock } from "./sim-helpers.ts";

const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");
const settle = () => new Promise((r) => setTimeout(r, 30));

describe("im-sim faults", () => {
  const clock = new StepClock();
  let sim: Simulator;
  const history = { ChatType: "C2C", MsgTime: READY_HOUR };

  beforeAll(async () => {
    sim = await startSimulator({ clock, seed: "faults", volume: 1500, rateLimitPerSecond: 1000 });
  });
  afterEach(() => sim.faults.clear());
  afterAll(() => sim.close());

  for (const [kind, status] of [
    ["http502", 502],
    ["http503", 503],
  ] as const) {
    it(`${kind}: answers HTTP ${status} with a gateway page once, then normally`, async () => {
      sim.faults.next({ kind });
      const hit = await call(sim.url, clock, history);
      const next = await call(sim.url, clock, history);

      expect(hit.status).toBe(status);
      expect(hit.text).toContain(`<title>${status}`);
      expect(next.json.ErrorCode).toBe(0);
      expect(sim.requests.at(-2)).toMatchObject({ httpStatus: status, fault: kind, code: undefined });
    });
  }

  for (const [kind, code] of [
    ["code1003", 1003],
    ["rateLimit", 60007],
    ["sigExpired", 70001],
  ] as const) {
    it(`${kind}: answers ErrorCode ${code} in the envelope, for as many calls as its count`, async () => {
      sim.faults.next({ kind, count: 2 });
      const codes = [];
      for (let i = 0; i < 3; i++) codes.push((await call(sim.url, clock, history)).json.ErrorCode);

      expect(codes).toEqual([code, code, 0]);
      expect(sim.requests.at(-3)).toMatchObject({ fault: kind, code });
    });
  }

  it("matches API faults by command", async () => {
    sim.faults.next({ kind: "code1003", match: { command: "get_cos_sig" } });
    const h = await call(sim.url, clock, history);
    const c = await call(
      sim.url,
      clock,
      { RawURLs: [{ ResourceID: 1, RawURL: "https://x.invalid/a.png" }] },
      { path: COS_SIG },
    );

    expect([h.json.ErrorCode, c.json.ErrorCode]).toEqual([0, 1003]);
  });

  it("lets im-core's client ride out a 1003 and a 70001 with its retries", async () => {
    const client = new ImClient({
      sdkAppId: TEST_SDKAPPID,
      identifier: TEST_ADMIN,
      secretKey: TEST_SECRET_KEY,
      baseUrl: sim.url,
      clock,
      maxAttempts: 3,
      baseDelayMs: 1,
      maxDelayMs: 2,
    });
    sim.requests.length = 0;
    sim.faults.next([{ kind: "code1003" }, { kind: "sigExpired" }]);
    const files = await getHistory(client, "C2C", READY_HOUR);

    expect(files).toHaveLength(1);
    expect(sim.requests.map((r) => r.code)).toEqual([1003, 70001, 0]);
  });

  it("corrupt: sends the advertised number of bytes, one of them flipped, so the MD5 does not match", async () => {
    const [f] = await historyFiles(sim.url, clock, "C2C", READY_HOUR);
    sim.faults.next({ kind: "corrupt" });
    const bad = Buffer.from(await (await fetch(f!.URL)).arrayBuffer());
    const good = Buffer.from(await (await fetch(f!.URL)).arrayBuffer());

    expect(bad.length).toBe(f!.GzipSize);
    expect(md5(bad)).not.toBe(f!.GzipMD5);
    expect(md5(good)).toBe(f!.GzipMD5);
    const diff = [...bad].flatMap((b, i) => (b === good[i] ? [] : [i]));
    expect(diff).toEqual([Math.floor(f!.GzipSize / 2)]);
  });

  it("truncate: cuts the connection after afterBytes; the client sees an incomplete body", async () => {
    const [f] = await historyFiles(sim.url, clock, "C2C", READY_HOUR);
    sim.faults.next({ kind: "truncate", afterBytes: 10_000 });
    const res = await fetch(f!.URL);
    const got: number[] = [];
    const err = await (async () => {
      try {
        for await (const c of res.body!) got.push((c as Uint8Array).length);
      } catch (e) {
        return e;
      }
    })();
    await settle();

    expect(res.headers.get("content-length")).toBe(String(f!.GzipSize));
    expect(err).toBeInstanceOf(Error);
    expect(got.reduce((a, b) => a + b, 0)).toBe(10_000);
    expect(sim.downloads.at(-1)).toMatchObject({
      fault: "truncate",
      bytesSent: 10_000,
      complete: false,
      ended: true,
    });
  });

  it("stall: sends some bytes then nothing; the socket is freed when the client gives up", async () => {
    const [f] = await historyFiles(sim.url, clock, "C2C", READY_HOUR);
    sim.faults.next({ kind: "stall", afterBytes: 5000 });
    const abort = new AbortController();
    const res = await fetch(f!.URL, { signal: abort.signal });
    const reader = res.body!.getReader();
    let received = 0;
    while (received < 5000) received += (await reader.read()).value!.length;
    const more = await Promise.race([
      reader.read().then(() => "data"),
      settle()
        .then(() => settle())
        .then(() => "nothing"),
    ]);
    abort.abort();
    await settle();

    expect(received).toBe(5000);
    expect(more).toBe("nothing");
    expect(sim.downloads.at(-1)).toMatchObject({
      fault: "stall",
      bytesSent: 5000,
      complete: false,
      ended: true,
    });
  });

  it("slow: paces the body in small pieces but delivers it whole and intact", async () => {
    const [f] = await historyFiles(sim.url, clock, "C2C", READY_HOUR);
    sim.faults.next({ kind: "slow", bytesPerSecond: 4 * 1024 * 1024 });
    const res = await fetch(f!.URL);
    const parts: Buffer[] = [];
    for await (const c of res.body!) parts.push(Buffer.from(c as Uint8Array));
    const body = Buffer.concat(parts);
    await settle();

    expect(md5(body)).toBe(f!.GzipMD5);
    // The simulator writes 16 KiB pieces; a reader slowed down by the machine may find two already
    // arrived and read them as one, so most reads (not every read) are one piece at most.
    const sizes = parts.map((p) => p.length).sort((a, b) => a - b);
    expect(sizes[Math.floor(sizes.length / 2)]).toBeLessThanOrEqual(16 * 1024);
    expect(parts.length).toBeGreaterThanOrEqual(Math.ceil(body.length / (16 * 1024)) / 2);
    expect(sim.downloads.at(-1)).toMatchObject({ fault: "slow", complete: true });
  });

  it("expireUrlEarly: answers 403 before ExpireTime; a fresh URL works", async () => {
    const [f] = await historyFiles(sim.url, clock, "C2C", READY_HOUR);
    sim.faults.next({ kind: "expireUrlEarly" });
    const early = await fetch(f!.URL);
    const [fresh] = await historyFiles(sim.url, clock, "C2C", READY_HOUR);
    const again = await fetch(fresh!.URL);
    await again.arrayBuffer();

    expect(early.status).toBe(403);
    expect(again.status).toBe(200);
  });

  it("matches download faults by chat type, hour and file, and by target", async () => {
    sim.faults.next({
      kind: "expireUrlEarly",
      match: { chatType: "Group", msgTime: READY_HOUR, fileIndex: 0 },
    });
    sim.faults.next({ kind: "expireUrlEarly", match: { target: "media" } });
    const [c2c] = await historyFiles(sim.url, clock, "C2C", READY_HOUR);
    const [group] = await historyFiles(sim.url, clock, "Group", READY_HOUR);
    const a = await fetch(c2c!.URL);
    await a.arrayBuffer();
    const b = await fetch(group!.URL);

    expect([a.status, b.status]).toEqual([200, 403]);
    expect(sim.faults.pending().queued).toEqual([
      expect.objectContaining({ kind: "expireUrlEarly", match: { target: "media" } }),
    ]);
  });

  it("applies download faults to media PreSigURLs too", async () => {
    const answer = await call(
      sim.url,
      clock,
      { RawURLs: [{ ResourceID: 1, RawURL: "https://x.invalid/a.png" }] },
      { path: COS_SIG },
    );
    const url = (answer.json.PreSigURLs as { PreSigURL: string }[])[0]!.PreSigURL;
    sim.faults.next({ kind: "expireUrlEarly", match: { target: "media" } });

    expect((await fetch(url)).status).toBe(403);
    expect(sim.downloads.at(-1)).toMatchObject({ target: "media", fault: "expireUrlEarly" });
  });

  it("draws seeded random faults: probability 1 hits every request of that kind", async () => {
    sim.faults.random({ http503: 1 }, 7);
    const a = await call(sim.url, clock, history);
    const b = await call(sim.url, clock, history);
    sim.faults.clear();
    const c = await call(sim.url, clock, history);

    expect([a.status, b.status, c.status]).toEqual([503, 503, 200]);
    expect(sim.requests.at(-2)?.fault).toBe("http503");
  });
});

describe("im-sim close with a stalled download", () => {
  it("closes promptly and cuts the stalled connection instead of leaking it", async () => {
    const clock = new StepClock();
    const sim = await startSimulator({ clock, volume: 1500 });
    const [f] = await historyFiles(sim.url, clock, "C2C", READY_HOUR);
    sim.faults.next({ kind: "stall", afterBytes: 1000 });
    const res = await fetch(f!.URL);
    const reader = res.body!.getReader();
    let received = 0;
    while (received < 1000) received += (await reader.read()).value!.length;
    const rest = reader.read();
    await sim.close();

    await expect(rest).rejects.toThrow();
    expect(sim.downloads.at(-1)).toMatchObject({ fault: "stall", ended: true, complete: false });
  });
});

describe("im-sim close during a big hour's first get_history", () => {
  it("stops generating, answers the waiting call with an error, and closes", async () => {
    const clock = new StepClock();
    const sim = await startSimulator({ clock, volume: { bytes: 2 * 1024 ** 3 } });
    const pending = call(sim.url, clock, { ChatType: "C2C", MsgTime: READY_HOUR }).then(
      (r) => r.status,
      () => "cut",
    );
    await settle();
    await sim.close();

    expect([500, "cut"]).toContain(await pending);
  });
});

describe("im-sim HTTP control surface", () => {
  const clock = new StepClock();
  let sim: Simulator;
  const post = (body: unknown) =>
    fetch(`${sim.url}/__sim/faults`, {
      method: "POST",
      body: typeof body === "string" ? body : JSON.stringify(body),
    });

  beforeAll(async () => {
    sim = await startSimulator({ clock, volume: 10, rateLimitPerSecond: 1000 });
  });
  afterAll(() => sim.close());

  it("queues faults posted as JSON and shows them until used", async () => {
    const posted = await post({
      next: [
        { kind: "code1003", count: 2 },
        { kind: "corrupt", match: { chatType: "Group" } },
      ],
    });
    const listed = (await (await fetch(`${sim.url}/__sim/faults`)).json()) as {
      queued: { kind: string; count: number }[];
    };
    const r = await call(sim.url, clock, { ChatType: "C2C", MsgTime: READY_HOUR });

    expect(posted.status).toBe(200);
    expect(listed.queued.map((q) => [q.kind, q.count])).toEqual([
      ["code1003", 2],
      ["corrupt", 1],
    ]);
    expect(r.json.ErrorCode).toBe(1003);
    await post({ clear: true });
    expect((await call(sim.url, clock, { ChatType: "C2C", MsgTime: READY_HOUR })).json.ErrorCode).toBe(0);
  });

  it("takes count null as unlimited and random probabilities with a seed", async () => {
    await post({ next: { kind: "rateLimit", count: null } });
    const codes = [];
    for (let i = 0; i < 3; i++)
      codes.push((await call(sim.url, clock, { ChatType: "C2C", MsgTime: READY_HOUR })).json.ErrorCode);
    await post({ clear: true, random: { http502: 1 }, seed: "x" });
    const r = await call(sim.url, clock, { ChatType: "C2C", MsgTime: READY_HOUR });
    await post({ clear: true });

    expect(codes).toEqual([60007, 60007, 60007]);
    expect(r.status).toBe(502);
  });

  it("answers 400 for an unknown fault kind, a bad probability or a body that is not JSON", async () => {
    const unknown = await post({ next: { kind: "meteor" } });

    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: string }).error).toContain("unknown fault kind");
    expect((await post({ random: { corrupt: 3 } })).status).toBe(400);
    expect((await post("{")).status).toBe(400);
    expect((await post({})).status).toBe(400);
  });

  it("lists the requests and downloads it saw, without usersigs, and forgets them on DELETE", async () => {
    const [f] = await historyFiles(sim.url, clock, "Group", READY_HOUR);
    await (await fetch(f!.URL)).arrayBuffer();
    await settle();
    const seen = await (await fetch(`${sim.url}/__sim/requests`)).text();
    const parsed = JSON.parse(seen) as { requests: { command: string }[]; downloads: { target: string }[] };
    await fetch(`${sim.url}/__sim/requests`, { method: "DELETE" });
    const after = (await (await fetch(`${sim.url}/__sim/requests`)).json()) as { requests: unknown[] };

    expect(parsed.requests.at(-1)).toMatchObject({ command: "get_history", code: 0 });
    expect(parsed.downloads.at(-1)).toMatchObject({ target: "history", complete: true });
    expect(seen).not.toMatch(/usersig|eJ[wx]/i);
    expect(after.requests).toEqual([]);
  });

  it("describes itself without the secret key", async () => {
    const info = await (await fetch(`${sim.url}/__sim/info`)).text();

    expect(JSON.parse(info)).toMatchObject({ sdkAppId: TEST_SDKAPPID, admins: [TEST_ADMIN], url: sim.url });
    expect(info).not.toContain(TEST_SECRET_KEY);
  });
});
