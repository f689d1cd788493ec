/**
 * Media capture end to end against the real simulator over loopback: an hour is archived with im-core,
 * then captureHourMedia signs its media through the same rate-limited ImClient and downloads them over
 * HTTP into a local store. Every captured object must hold exactly the bytes the simulator serves
 * (hashed here from the simulator's own stream, not from what imvault wrote), banned ones included;
 * missing and refused ones are never downloaded, and nothing is downloaded twice, not even by a second
 * run of the same hour.
 */
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import {
  archiveHour,
  captureHourMedia,
  createLocalStore,
  DEFAULT_MEDIA_CONFIG,
  defaultArchiveConfig,
  getCosSig,
  getHistory,
  ImClient,
  type LocalArchiveStore,
  type MediaDeps,
  mediaKey,
  mediaManifestKey,
  mediaUrls,
  readGzipHistory,
  readManifest,
  readMediaManifest,
  silentLogger,
} from "@imvault/im-core";
import { type Simulator, startSimulator, TEST_ADMIN, TEST_SDKAPPID, TEST_SECRET_KEY } from "@imvault/im-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { READY_HOUR, T0 } from "./sim-helpers.ts";

const MiB = 1024 * 1024;
const BIG = 64 * MiB;
const JOB = { v: 1, chatType: "C2C", msgTime: READY_HOUR } as const;

/** Simulated time that runs at real speed from T0, shared by the simulator, the client and the capture. */
const started = Date.now();
const clock = {
  now: () => T0 + (Date.now() - started),
  sleep: (ms: number, signal?: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, ms);
      signal?.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(signal.reason);
      });
    }),
};

async function sha256Of(stream: Readable): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest("hex"), size };
}

describe("media capture against the simulator", () => {
  let sim: Simulator;
  let dir: string;
  let store: LocalArchiveStore;
  let deps: MediaDeps;
  /** The hour's distinct media URLs, read from the archived raw file. */
  let urls: string[];
  const refused = new Set<string>();
  let big: string;
  let expiring: string;
  let failing: string;
  const mediaDownloads = (rawUrl: string) =>
    sim.downloads.filter(
      (d) => d.target === "media" && d.path === `/cos/${sim.mediaObject(rawUrl)!.objectPath}`,
    );
  const cosSigCalls = () => sim.requests.filter((r) => r.command === "get_cos_sig");

  beforeAll(async () => {
    sim = await startSimulator({
      clock,
      seed: "media-capture",
      volume: 150,
      bannedFraction: 0.1,
      missingFraction: 0.1,
      refusedUrls: (u) => refused.has(u),
    });
    dir = await mkdtemp(join(tmpdir(), "imvault-media-system-"));
    store = createLocalStore({ root: dir });
    const client = new ImClient({
      sdkAppId: TEST_SDKAPPID,
      identifier: TEST_ADMIN,
      secretKey: TEST_SECRET_KEY,
      baseUrl: sim.url,
      clock,
    });
    const archived = await archiveHour(JOB, {
      getHistory: (chatType, msgTime, signal) =>
        getHistory(client, chatType, msgTime, signal ? { signal } : {}),
      store,
      clock,
      logger: silentLogger,
      config: defaultArchiveConfig([sim.url]),
    });
    expect(archived.outcome).toBe("archived");

    const seen = new Set<string>();
    for (const file of (await readManifest(store, JOB.chatType, JOB.msgTime))!.files) {
      for await (const ev of readGzipHistory(await store.get(file.key))) {
        if (ev.kind === "message") for (const m of mediaUrls(ev.message)) seen.add(m.url);
      }
    }
    urls = [...seen];
    const normal = urls.filter((u) => sim.mediaObject(u)?.status === 0);
    big = normal.find((u) => u.endsWith(".mp4"))!;
    [expiring, failing] = normal.filter((u) => u !== big) as [string, string];
    refused.add(normal.at(-1)!);
    sim.setMediaSize(big, BIG);
    sim.faults.next([
      { kind: "expireUrlEarly", match: { mediaUrl: expiring } },
      { kind: "serverError", match: { mediaUrl: failing } },
    ]);
    sim.downloads.length = 0;
    sim.requests.length = 0;

    deps = {
      store,
      getCosSig: (items, signal) => getCosSig(client, items, signal ? { signal } : {}),
      clock,
      logger: silentLogger,
      config: { ...DEFAULT_MEDIA_CONFIG, downloadHosts: [sim.url], retryBaseDelayMs: 10 },
    };
  });
  afterAll(async () => {
    await sim?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("captures every media URL of the hour byte for byte, records missing and refused ones, and fetches nothing twice", async () => {
    const result = await captureHourMedia(JOB, deps);

    const manifest = await readMediaManifest(store, JOB.chatType, JOB.msgTime);
    expect(manifest?.items.map((i) => i.rawUrl)).toEqual(urls);
    const byStatus = { captured: 0, missing: 0, refused: 0, banned: 0 };
    for (const item of manifest!.items) {
      const served = sim.mediaObject(item.rawUrl)!;
      byStatus[item.status]++;
      if (item.status === "captured") {
        const expected = await sha256Of(served.open());
        expect(item).toMatchObject({ key: mediaKey(item.rawUrl), tencentStatus: served.status, ...expected });
        expect(await sha256Of(await store.get(item.key))).toEqual(expected);
        expect(mediaDownloads(item.rawUrl).filter((d) => d.status === 200)).toHaveLength(1);
        if (served.status === 1) byStatus.banned++;
      } else {
        expect(mediaDownloads(item.rawUrl)).toHaveLength(0);
        expect(item.status).toBe(refused.has(item.rawUrl) ? "refused" : "missing");
        if (item.status === "missing") expect(served.status).toBe(2);
      }
    }
    // The seeded hour holds every kind of case this test is about.
    expect(byStatus.banned).toBeGreaterThan(0);
    expect(byStatus.missing).toBeGreaterThan(0);
    expect(byStatus.refused).toBe(1);
    expect(result.counts).toEqual({ captured: byStatus.captured, missing: byStatus.missing, refused: 1 });
    expect(manifest!.items.find((i) => i.rawUrl === big)).toMatchObject({ status: "captured", size: BIG });
    // The early-expired PreSigURL was asked for again (one more get_cos_sig call, for that URL alone);
    // the 500 was retried with the same one.
    expect(mediaDownloads(expiring).map((d) => d.status)).toEqual([403, 200]);
    expect(mediaDownloads(failing).map((d) => d.status)).toEqual([500, 200]);
    const batches = Math.ceil(urls.length / DEFAULT_MEDIA_CONFIG.signBatchSize);
    expect(cosSigCalls()).toHaveLength(batches + 1);
    expect(cosSigCalls().every((r) => r.code === 0)).toBe(true);
    expect(result.bytes).toBeGreaterThan(BIG);
  });

  it("fetches and signs nothing again when the hour is captured once more", async () => {
    const before = { downloads: sim.downloads.length, cosSigCalls: cosSigCalls().length };
    const first = await readMediaManifest(store, JOB.chatType, JOB.msgTime);
    await store.delete(mediaManifestKey(JOB.chatType, JOB.msgTime));

    const again = await captureHourMedia(JOB, deps);

    const second = await readMediaManifest(store, JOB.chatType, JOB.msgTime);
    expect(sim.downloads.length).toBe(before.downloads);
    // Only the missing and refused URLs are asked about again (they have no stored object).
    expect(
      cosSigCalls()
        .slice(before.cosSigCalls)
        .flatMap((r) => (r.body as { RawURLs: unknown[] }).RawURLs),
    ).toHaveLength(first!.items.filter((i) => i.status !== "captured").length);
    expect(second?.items).toEqual(first?.items);
    expect(again).toMatchObject({ fetched: 0, bytes: 0 });
  });
});
