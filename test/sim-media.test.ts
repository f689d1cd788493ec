/**
 * The simulator's media side over HTTP, as a media capture sees it: sized objects streamed at their
 * PreSigURLs (with Range), per-URL download faults, RawURLs get_cos_sig refuses, and the control route
 * that sizes objects from another process.
 */
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { mediaUrls, readGzipHistory } from "@imvault/im-core";
import { type Simulator, startSimulator } from "@imvault/im-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COS_SIG, call, historyFiles, READY_HOUR, StepClock } from "./sim-helpers.ts";

interface PreSig {
  ResourceID: number;
  Code: number;
  Desc: string;
  PreSigURL: string;
  Status: number;
}

const MiB = 1024 * 1024;

async function sha256Of(
  stream: Readable | ReadableStream<Uint8Array>,
): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { sha256: hash.digest("hex"), size };
}

describe("im-sim media for capture", () => {
  const clock = new StepClock();
  let sim: Simulator;
  let urls: string[];
  const presign = async (list: string[]): Promise<PreSig[]> =>
    (
      await call(
        sim.url,
        clock,
        { RawURLs: list.map((RawURL, i) => ({ ResourceID: i, RawURL })) },
        { path: COS_SIG },
      )
    ).json.PreSigURLs as PreSig[];

  beforeAll(async () => {
    sim = await startSimulator({
      clock,
      seed: "sim-media",
      volume: 300,
      bannedFraction: 0,
      missingFraction: 0,
      rateLimitPerSecond: 1000,
    });
    const [file] = await historyFiles(sim.url, clock, "C2C", READY_HOUR);
    const gz = Buffer.from(await (await fetch(file!.URL)).arrayBuffer());
    urls = [];
    for await (const ev of readGzipHistory(gz)) {
      if (ev.kind === "message") urls.push(...mediaUrls(ev.message).map((m) => m.url));
    }
  });
  afterAll(() => sim.close());

  it("serves a sized object as exactly that many bytes, the ones mediaObject() streams, Range included", async () => {
    const video = urls.find((u) => u.endsWith(".mp4"))!;
    sim.setMediaSize(video, 32 * MiB + 5);
    const [pre] = await presign([video]);

    const res = await fetch(pre!.PreSigURL);
    const served = await sha256Of(res.body!);
    const expected = await sha256Of(sim.mediaObject(video)!.open());
    const ranged = await fetch(pre!.PreSigURL, { headers: { range: `bytes=${32 * MiB}-` } });
    const tail = Buffer.from(await ranged.arrayBuffer());
    const whole = Buffer.concat(await sim.mediaObject(video)!.open().toArray());

    expect(res.headers.get("content-length")).toBe(String(32 * MiB + 5));
    expect(res.headers.get("content-type")).toBe("video/mp4");
    expect(served).toEqual(expected);
    expect(served.size).toBe(32 * MiB + 5);
    expect(ranged.status).toBe(206);
    expect(tail.equals(whole.subarray(32 * MiB))).toBe(true);
    expect(sim.mediaObject(video)).toMatchObject({ size: 32 * MiB + 5, status: 0, contentType: "video/mp4" });
  });

  it("hits only the download of the RawURL a fault names: notFound, serverError, expireUrlEarly", async () => {
    const [a, b] = urls;
    sim.faults.next([
      { kind: "notFound", match: { mediaUrl: a! } },
      { kind: "serverError", match: { mediaUrl: a! } },
      { kind: "expireUrlEarly", match: { mediaUrl: a! } },
    ]);
    const [pa, pb] = await presign([a!, b!]);

    const statuses = [];
    statuses.push((await fetch(pb!.PreSigURL)).status);
    for (let i = 0; i < 4; i++) {
      const res = await fetch(pa!.PreSigURL);
      await res.arrayBuffer();
      statuses.push(res.status);
    }

    expect(statuses).toEqual([200, 404, 500, 403, 200]);
  });

  it("answers get_cos_sig with an error Code and no PreSigURL for a refused RawURL, and 0 for the rest", async () => {
    const s = await startSimulator({
      clock,
      seed: "sim-media",
      refusedUrls: [urls[0]!],
      rateLimitPerSecond: 1000,
    });
    try {
      const answer = await call(
        s.url,
        clock,
        { RawURLs: [urls[0], urls[1]].map((RawURL, i) => ({ ResourceID: i, RawURL })) },
        { path: COS_SIG },
      );
      const [refused, normal] = answer.json.PreSigURLs as PreSig[];

      expect(refused).toMatchObject({ Code: 1002, PreSigURL: "" });
      expect(normal).toMatchObject({ Code: 0 });
    } finally {
      await s.close();
    }
  });

  it("sizes objects through POST /__sim/media and refuses URLs it did not mint", async () => {
    const image = urls.find((u) => u.endsWith(".png") || u.endsWith(".jpg"))!;
    const post = (body: unknown) =>
      fetch(`${sim.url}/__sim/media`, { method: "POST", body: JSON.stringify(body) });

    const ok = await post({ sizes: { [image]: 100_000 } });
    const foreign = await post({ sizes: { "https://example.com/a.png": 5 } });
    const negative = await post({ sizes: { [image]: -1 } });

    expect(ok.status).toBe(200);
    expect(sim.mediaObject(image)?.size).toBe(100_000);
    expect(foreign.status).toBe(400);
    expect(negative.status).toBe(400);
    expect(sim.mediaObject("https://example.com/a.png")).toBeUndefined();
  });
});
