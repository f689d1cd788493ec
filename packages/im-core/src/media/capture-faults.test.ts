import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  countingMetrics,
  elem,
  FakeCos,
  fakeClock,
  recordingLogger,
  sha256Hex,
  storeArchivedHour,
} from "../../testing/index.ts";
import { MediaCaptureError, UrlNotAllowedError } from "../errors.ts";
import { createLocalStore, type LocalArchiveStore } from "../store/local-store.ts";
import { METRIC } from "../util/metrics.ts";
import { captureHourMedia, DEFAULT_MEDIA_CONFIG, type MediaConfig, type MediaDeps } from "./capture-hour.ts";
import { mediaKey } from "./layout.ts";
import { readMediaManifest } from "./manifest.ts";

const HOUR = "2024030118";
const NOW = Date.parse("2024-03-01T13:30:00Z");
const JOB = { chatType: "C2C", msgTime: HOUR } as const;
const cos = (name: string) =>
  `https://cos.ap-shanghai.myqcloud.com/bucket-1256635546/0345-1400000000/0612-u/${name}`;
const bytes = (name: string, n = 700) => Buffer.alloc(n, name);

describe("captureHourMedia when downloads go wrong", () => {
  let dir: string;
  let store: LocalArchiveStore;
  let clock: ReturnType<typeof fakeClock>;
  let fake: FakeCos;
  let metrics: ReturnType<typeof countingMetrics>;
  let deps: MediaDeps;
  const withConfig = (config: Partial<MediaConfig>): MediaDeps => ({
    ...deps,
    config: { ...deps.config, ...config },
  });
  /** Files the local store left in its temp directory (a failed put must leave none). */
  const leftovers = async () => (await readdir(join(dir, ".imvault", "tmp")).catch(() => [])).length;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "imvault-media-faults-"));
    store = createLocalStore({ root: dir });
    clock = fakeClock(NOW);
    fake = new FakeCos(clock);
    metrics = countingMetrics();
    deps = {
      store,
      getCosSig: fake.getCosSig,
      fetch: fake.fetch,
      clock,
      logger: recordingLogger(),
      metrics,
      random: () => 0.5,
      config: { ...DEFAULT_MEDIA_CONFIG, downloadHosts: ["*.myqcloud.com"], maxAttempts: 3 },
    };
    fake.add(cos("a.png"), { body: bytes("a") });
    await storeArchivedHour(store, "C2C", HOUR, [[elem.image(cos("a.png"))]]);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it.each([
    ["read whole", DEFAULT_MEDIA_CONFIG.wholeUpTo],
    ["streamed", 0],
  ])(
    "fails the hour when every attempt's body (%s) is shorter than its Content-Length, storing nothing",
    async (_how, wholeUpTo) => {
      fake.fault(cos("a.png"), ...Array(3).fill({ kind: "short", declared: 701 }));

      const run = captureHourMedia(JOB, { ...deps, config: { ...deps.config, wholeUpTo } });

      await expect(run).rejects.toThrow(MediaCaptureError);
      await expect(run).rejects.toMatchObject({
        retryable: true,
        message: /700 bytes arrived, Content-Length said 701/,
      });
      expect(await store.head(mediaKey(cos("a.png")))).toBeUndefined();
      expect(await readMediaManifest(store, "C2C", HOUR)).toBeUndefined();
      expect(await leftovers()).toBe(0);
      expect(fake.downloadsOf(cos("a.png"))).toBe(3);
    },
  );

  it("stores the object once a later attempt is whole, counting the retries", async () => {
    fake.fault(cos("a.png"), { kind: "short", declared: 9999 }, { kind: "status", status: 503 });

    const result = await captureHourMedia(JOB, deps);

    expect(result.counts.captured).toBe(1);
    expect(await readFile(join(dir, mediaKey(cos("a.png"))))).toEqual(bytes("a"));
    expect(metrics.counts.get(METRIC.mediaRetries)).toBe(2);
  });

  it("refuses a PreSigURL off the download hosts before fetching a byte, and fails the hour", async () => {
    fake.presignOrigin = "https://cos.evil.example.com";

    await expect(captureHourMedia(JOB, deps)).rejects.toThrow(UrlNotAllowedError);
    expect(fake.downloads).toEqual([]);
    expect(await readMediaManifest(store, "C2C", HOUR)).toBeUndefined();
  });

  it("asks get_cos_sig again for the one URL whose PreSigURL lapsed (403) and downloads with the new one", async () => {
    // The first download starts after the PreSigURL's 15 minutes.
    fake.fault(cos("a.png"), { kind: "before", run: async () => clock.advance(16 * 60_000) });

    const result = await captureHourMedia(JOB, deps);

    expect(result.counts.captured).toBe(1);
    expect(fake.signCalls.map((c) => c.map((i) => i.RawURL))).toEqual([[cos("a.png")], [cos("a.png")]]);
    expect(fake.downloadsOf(cos("a.png"))).toBe(2);
  });

  it("asks again before downloading when the PreSigURL is about to lapse, so no download is refused", async () => {
    fake.ttlMs = 30_000; // under the 60 s margin

    const seen: string[] = [];
    const recording: typeof fetch = (input, init) => {
      seen.push(new URL(String(input)).searchParams.get("sign") ?? "");
      return fake.fetch(input, init);
    };
    await captureHourMedia(JOB, { ...deps, fetch: recording });

    expect(fake.signCalls).toHaveLength(2);
    expect(seen).toEqual(["2"]);
  });

  it("records an object Tencent deleted meanwhile (404, then Status 2 when asked again) as missing", async () => {
    fake.fault(cos("a.png"), {
      kind: "before",
      run: async () => {
        fake.objects.get(cos("a.png"))!.status = 2;
      },
    });

    const result = await captureHourMedia(JOB, deps);

    expect((await readMediaManifest(store, "C2C", HOUR))?.items).toEqual([
      { rawUrl: cos("a.png"), status: "missing", tencentStatus: 2 },
    ]);
    expect(result.counts).toEqual({ captured: 0, missing: 1, refused: 0 });
  });

  it("keeps an object another worker stored meanwhile, records its figures and rewrites nothing", async () => {
    fake.fault(cos("a.png"), {
      kind: "before",
      run: async () => void (await store.put(mediaKey(cos("a.png")), bytes("a"))),
    });

    const result = await captureHourMedia(JOB, deps);

    expect((await readMediaManifest(store, "C2C", HOUR))?.items[0]).toMatchObject({
      status: "captured",
      sha256: sha256Hex(bytes("a")),
      size: 700,
    });
    expect(result).toMatchObject({ fetched: 0, reused: 1 });
  });

  it("fails without retrying when the object stored meanwhile differs in size from what was served", async () => {
    const theirs = bytes("b", 10);
    fake.fault(cos("a.png"), {
      kind: "before",
      run: async () => void (await store.put(mediaKey(cos("a.png")), theirs)),
    });

    await expect(captureHourMedia(JOB, deps)).rejects.toMatchObject({
      name: "MediaCaptureError",
      retryable: false,
      message: /700 bytes were served but the stored object has 10/,
    });
    expect(await readFile(join(dir, mediaKey(cos("a.png"))))).toEqual(theirs);
    expect(await readMediaManifest(store, "C2C", HOUR)).toBeUndefined();
  });

  it("gives up on a stalled download after idleTimeoutMs and fails the hour", async () => {
    fake.fault(cos("a.png"), { kind: "stall" }, { kind: "stall" });

    await expect(captureHourMedia(JOB, withConfig({ idleTimeoutMs: 50, maxAttempts: 2 }))).rejects.toThrow(
      /stalled for 50 ms/,
    );
    expect(await leftovers()).toBe(0);
  });

  it("tells onFetched of each object it stored before the hour failed, though the hour returns no result", async () => {
    fake.add(cos("b.png"), { body: bytes("b", 300) });
    fake.add(cos("c.png"), { body: bytes("c", 500) });
    await storeArchivedHour(store, "C2C", HOUR, [
      [elem.image(cos("b.png"))],
      [elem.image(cos("c.png"))],
      [elem.image(cos("a.png"))],
    ]);
    fake.fault(cos("a.png"), { kind: "status", status: 503 }, { kind: "status", status: 503 });
    const told: number[] = [];

    const run = captureHourMedia(JOB, { ...withConfig({ maxAttempts: 2 }), onFetched: (n) => told.push(n) });

    await expect(run).rejects.toThrow(MediaCaptureError);
    expect(told.sort((x, y) => x - y)).toEqual([300, 500]);
    expect(await store.head(mediaKey(cos("b.png")))).toMatchObject({ size: 300 });
  });

  it("stops when its signal aborts mid-download, leaving no manifest, object or temp file", async () => {
    const abort = new AbortController();
    fake.fault(cos("a.png"), { kind: "before", run: async () => abort.abort(new Error("shutting down")) });

    await expect(captureHourMedia(JOB, deps, abort.signal)).rejects.toThrow("shutting down");
    expect(await store.head(mediaKey(cos("a.png")))).toBeUndefined();
    expect(await readMediaManifest(store, "C2C", HOUR)).toBeUndefined();
    expect(await leftovers()).toBe(0);
  });

  it("runs at most `concurrency` downloads at a time", async () => {
    const names = Array.from({ length: 10 }, (_, i) => `n${i}.png`);
    for (const name of names) {
      fake.add(cos(name), { body: bytes(name) });
      fake.fault(cos(name), { kind: "hold", release: delay(20) });
    }
    await storeArchivedHour(store, "Group", HOUR, [names.map((n) => elem.image(cos(n)))]);

    const result = await captureHourMedia(
      { chatType: "Group", msgTime: HOUR },
      withConfig({ concurrency: 3 }),
    );

    expect(result.fetched).toBe(10);
    expect(fake.maxInFlight).toBe(3);
  });

  it("streams a 200 MiB object to the store, holding a few MiB of it at a time", {
    timeout: 60_000,
  }, async () => {
    const size = 200 * 1024 * 1024;
    const { generatedBody } = await import("../../testing/media.ts");
    let produced: ReturnType<typeof generatedBody> | undefined;
    fake.add(cos("big.mp4"), {
      size,
      body: () => {
        produced = generatedBody(size);
        return produced.stream;
      },
    });
    await storeArchivedHour(store, "Group", HOUR, [[elem.video(cos("big.mp4"), cos("a.png"))]]);
    // The store drains the big body (counting) rather than writing 200 MiB to disk; how far the
    // generator ever got ahead of it is what the download held in memory.
    let maxAhead = 0;
    const draining: typeof store = {
      ...store,
      async put(key, body, options) {
        if (!key.endsWith("big.mp4") || typeof body === "string" || Buffer.isBuffer(body)) {
          return store.put(key, body, options);
        }
        let n = 0;
        for await (const chunk of body) {
          n += (chunk as Buffer).length;
          maxAhead = Math.max(maxAhead, (produced?.produced() ?? 0) - n);
        }
        return { size: n };
      },
    };
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 5);

    const result = await captureHourMedia({ chatType: "Group", msgTime: HOUR }, { ...deps, store: draining });
    clearInterval(sampler);

    const item = (await readMediaManifest(store, "Group", HOUR))?.items[0];
    expect(item).toMatchObject({ status: "captured", size, sha256: produced?.sha256() });
    expect(result.bytes).toBe(size + 700);
    expect(maxAhead).toBeLessThan(8 * 1024 * 1024);
    expect(peak - before).toBeLessThan(128 * 1024 * 1024);
  });
});
