import { getCosSig, ImClient, mediaUrls, readGzipHistory } from "@imvault/im-core";
import { type Simulator, startSimulator, TEST_ADMIN, TEST_SDKAPPID, TEST_SECRET_KEY } from "@imvault/im-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COS_SIG, call, historyFiles, READY_HOUR, StepClock } from "./sim-helpers.ts";

interface PreSig {
  ResourceID: number;
  Code: number;
  Desc: string;
  PreSigURL: string;
  Status: number;
}

/** The rich-media URLs of one simulated hour, read from its history file with im-core's parser. */
async function mediaOf(sim: Simulator, clock: StepClock, n: number): Promise<string[]> {
  const [f] = await historyFiles(sim.url, clock, "C2C", READY_HOUR);
  const gz = Buffer.from(await (await fetch(f!.URL)).arrayBuffer());
  const urls: string[] = [];
  for await (const ev of readGzipHistory(gz)) {
    if (ev.kind === "message") urls.push(...mediaUrls(ev.message).map((m) => m.url));
  }
  return urls.slice(0, n);
}

describe("im-sim get_cos_sig", () => {
  const clock = new StepClock();
  let sim: Simulator;
  let urls: string[];
  const cos = async (body: unknown) => (await call(sim.url, clock, body, { path: COS_SIG })).json;
  const items = (list: string[]) => ({ RawURLs: list.map((RawURL, i) => ({ ResourceID: 100 + i, RawURL })) });

  beforeAll(async () => {
    sim = await startSimulator({
      clock,
      seed: "cos",
      volume: 400,
      bannedFraction: 0,
      missingFraction: 0,
      rateLimitPerSecond: 1000,
      bannedUrls: (u) => u.endsWith(".gif"),
    });
    urls = (await mediaOf(sim, clock, 400)).filter((u) => !u.endsWith(".gif"));
  });
  afterAll(() => sim.close());

  it("knows the media URLs it put in histories: status 0, Code 0, ResourceIDs echoed in order", async () => {
    const answer = await cos(items(urls.slice(0, 20)));
    const pre = answer.PreSigURLs as PreSig[];

    expect(answer).toMatchObject({ ActionStatus: "OK", ErrorCode: 0 });
    expect(pre.map((p) => p.ResourceID)).toEqual(urls.slice(0, 20).map((_, i) => 100 + i));
    for (const p of pre) {
      expect(p).toMatchObject({ Code: 0, Desc: "", Status: 0 });
      expect(p.PreSigURL).toMatch(
        new RegExp(
          `^${sim.url}/cos/.+\\?sign=[0-9a-f]+&im-time-expired=${Math.floor(clock.now() / 1000) + 900}$`,
        ),
      );
    }
  });

  it("reports configured banned URLs as 1 and missing ones as 2, and unknown URLs as 2", async () => {
    const s = await startSimulator({
      clock,
      seed: "cos",
      bannedFraction: 0,
      missingFraction: 0,
      bannedUrls: [urls[0]!],
      missingUrls: [urls[1]!],
    });
    try {
      const forged = urls[2]!.replace(
        /[0-9a-f](\.[a-z0-9]+)$/,
        (m, ext: string) => `${m[0] === "0" ? "1" : "0"}${ext}`,
      );
      const answer = await call(
        s.url,
        clock,
        items([urls[0]!, urls[1]!, urls[2]!, forged, "https://example.com/x.png"]),
        {
          path: COS_SIG,
        },
      );

      expect((answer.json.PreSigURLs as PreSig[]).map((p) => p.Status)).toEqual([1, 2, 0, 2, 2]);
    } finally {
      await s.close();
    }
  });

  it("uses a predicate rule too (here: every .gif is banned)", async () => {
    const gif = (await mediaOf(sim, clock, 5000)).find((u) => u.endsWith(".gif"));
    const answer = await cos(items([gif!]));

    expect((answer.PreSigURLs as PreSig[])[0]!.Status).toBe(1);
  });

  it("bans and loses a seeded fraction of its URLs, the same ones for the same seed", async () => {
    const opts = {
      clock,
      seed: "fractions",
      bannedFraction: 0.3,
      missingFraction: 0.2,
      rateLimitPerSecond: 1000,
    };
    const [a, b] = await Promise.all([startSimulator(opts), startSimulator(opts)]);
    try {
      const list = await mediaOf(a, clock, 300);
      const sa = ((await call(a.url, clock, items(list), { path: COS_SIG })).json.PreSigURLs as PreSig[]).map(
        (p) => p.Status,
      );
      const sb = ((await call(b.url, clock, items(list), { path: COS_SIG })).json.PreSigURLs as PreSig[]).map(
        (p) => p.Status,
      );
      const share = (s: number) => sa.filter((x) => x === s).length / sa.length;

      expect(sb).toEqual(sa);
      expect(share(1)).toBeGreaterThan(0.2);
      expect(share(1)).toBeLessThan(0.4);
      expect(share(2)).toBeGreaterThan(0.1);
      expect(share(2)).toBeLessThan(0.3);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("gives an item that is not a URL a non-zero Code and no PreSigURL, without failing the others", async () => {
    const answer = await cos({
      RawURLs: [
        { ResourceID: 1, RawURL: "not a url" },
        { ResourceID: 2, RawURL: urls[0] },
      ],
    });
    const [bad, good] = answer.PreSigURLs as PreSig[];

    expect(answer.ErrorCode).toBe(0);
    expect(bad).toMatchObject({ ResourceID: 1, Code: 1002, PreSigURL: "", Status: 2 });
    expect(good).toMatchObject({ ResourceID: 2, Code: 0, Status: 0 });
  });

  it("rejects malformed bodies with 1002 naming the item", async () => {
    expect((await cos({})).ErrorCode).toBe(1002);
    expect((await cos({ RawURLs: [] })).ErrorCode).toBe(1002);
    expect((await cos({ RawURLs: "x" })).ErrorCode).toBe(1002);
    expect((await cos({ RawURLs: [5] })).ErrorCode).toBe(1002);
    const noId = await cos({ RawURLs: [{ RawURL: urls[0] }] });
    expect(noId).toMatchObject({ ErrorCode: 1002, ActionStatus: "FAIL" });
    expect(noId.ErrorInfo).toContain("RawURLs[0].ResourceID");
    expect((await cos({ RawURLs: [{ ResourceID: 1.5, RawURL: urls[0] }] })).ErrorCode).toBe(1002);
    expect((await cos({ RawURLs: [{ ResourceID: 1, RawURL: 7 }] })).ErrorCode).toBe(1002);
    expect(
      (await cos({ RawURLs: [{ ResourceID: 1, RawURL: urls[0] }, { ResourceID: 2 }] })).ErrorInfo,
    ).toContain("RawURLs[1].RawURL");
  });

  it("serves media bytes of the right type at PreSigURLs for normal and banned objects, 404 for missing ones", async () => {
    const s = await startSimulator({
      clock,
      seed: "cos",
      bannedFraction: 0,
      missingFraction: 0,
      bannedUrls: [urls[1]!],
      missingUrls: [urls[2]!],
    });
    try {
      const png = urls.find((u) => u.endsWith(".png")) ?? urls[0]!;
      const answer = await call(s.url, clock, items([png, urls[1]!, urls[2]!]), { path: COS_SIG });
      const [normal, banned, missing] = answer.json.PreSigURLs as PreSig[];
      const r0 = await fetch(normal!.PreSigURL);
      const body = Buffer.from(await r0.arrayBuffer());
      const r1 = await fetch(banned!.PreSigURL);
      await r1.arrayBuffer();
      const r2 = await fetch(missing!.PreSigURL);

      expect(r0.status).toBe(200);
      expect(body.length).toBeGreaterThanOrEqual(512);
      if (png.endsWith(".png")) {
        expect(r0.headers.get("content-type")).toBe("image/png");
        expect(body.subarray(1, 4).toString("latin1")).toBe("PNG");
      }
      expect(r1.status).toBe(200);
      expect(r2.status).toBe(404);
      expect(s.downloads.map((d) => [d.target, d.status])).toEqual([
        ["media", 200],
        ["media", 200],
        ["media", 404],
      ]);
    } finally {
      await s.close();
    }
  });

  it("refuses a PreSigURL after its 15 minutes and a tampered one with 403", async () => {
    const answer = await cos(items([urls[0]!]));
    const url = (answer.PreSigURLs as PreSig[])[0]!.PreSigURL;
    const tampered = url.replace(/sign=([0-9a-f])/, (_m, d: string) => `sign=${d === "0" ? "1" : "0"}`);
    const forged = await fetch(tampered);
    clock.advance(15 * 60_000 - 1);
    const inTime = await fetch(url);
    await inTime.arrayBuffer();
    clock.advance(1);
    const late = await fetch(url);
    clock.advance(-15 * 60_000);

    expect(forged.status).toBe(403);
    expect(inTime.status).toBe(200);
    expect(late.status).toBe(403);
  });

  it("answers im-core's getCosSig with statuses it maps to normal / banned / missing", async () => {
    const client = new ImClient({
      sdkAppId: TEST_SDKAPPID,
      identifier: TEST_ADMIN,
      secretKey: TEST_SECRET_KEY,
      baseUrl: sim.url,
      clock,
      maxAttempts: 1,
    });
    const gif = (await mediaOf(sim, clock, 5000)).find((u) => u.endsWith(".gif"))!;
    const results = await getCosSig(client, [
      { ResourceID: 1, RawURL: urls[0]! },
      { ResourceID: 2, RawURL: gif },
      { ResourceID: 3, RawURL: "https://cos.ap-shanghai.myqcloud.com/b/0000-1/0000-x/00.png" },
    ]);

    expect(results.map((r) => r.StatusText)).toEqual(["normal", "banned", "missing"]);
    expect(results[0]!.ExpiresAt).toBe(
      new Date(Math.floor(clock.now() / 1000) * 1000 + 900_000).toISOString(),
    );
  });
});
