import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
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
import { readManifest } from "../archive/manifest.ts";
import { ImTransportError } from "../errors.ts";
import { createLocalStore, type LocalArchiveStore } from "../store/local-store.ts";
import { METRIC } from "../util/metrics.ts";
import { captureHourMedia, DEFAULT_MEDIA_CONFIG, type MediaConfig, type MediaDeps } from "./capture-hour.ts";
import { mediaKey, mediaManifestKey } from "./layout.ts";
import { readMediaIndexEntry, readMediaManifest } from "./manifest.ts";

const HOUR = "2024030118";
const NEXT_HOUR = "2024030119";
const NOW = Date.parse("2024-03-01T13:30:00Z");
const cos = (name: string) =>
  `https://cos.ap-shanghai.myqcloud.com/98ec-shanghai-007-privatev2-01-1256635546/0345-1400000000/0612-u1/${name}`;
const bytes = (name: string, n = 700) => Buffer.alloc(n, name);

describe("captureHourMedia", () => {
  let dir: string;
  let store: LocalArchiveStore;
  let fake: FakeCos;
  let metrics: ReturnType<typeof countingMetrics>;
  let deps: MediaDeps;
  const withConfig = (config: Partial<MediaConfig>): MediaDeps => ({
    ...deps,
    config: { ...deps.config, ...config },
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "imvault-media-"));
    store = createLocalStore({ root: dir });
    const clock = fakeClock(NOW);
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
      config: { ...DEFAULT_MEDIA_CONFIG, downloadHosts: ["*.myqcloud.com"] },
    };
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("captures every media kind, banned ones too, and records missing and refused ones without fetching them", async () => {
    const normal = ["orig.png", "large.png", "thumb.png", "voice.m4a", "clip.mp4", "cover.jpg"];
    for (const name of normal) fake.add(cos(name), { body: bytes(name), contentType: "image/x-test" });
    fake.add(cos("contract.pdf"), {
      body: bytes("contract.pdf", 4000),
      status: 1,
      contentType: "application/pdf",
    });
    fake.add(cos("gone.png"), { body: bytes("gone"), status: 2 });
    fake.add(cos("foreign.png"), { body: bytes("foreign"), code: 1002, status: 2 });
    const unsafe = "https://cos.ap-shanghai.myqcloud.com/bucket/../../etc/passwd";
    await storeArchivedHour(store, "C2C", HOUR, [
      [elem.image(cos("orig.png"), cos("large.png"), cos("thumb.png"))],
      [elem.text("hi"), elem.sound(cos("voice.m4a"))],
      [elem.file(cos("contract.pdf"))],
      [elem.video(cos("clip.mp4"), cos("cover.jpg"))],
      [elem.image(cos("gone.png"))],
      [elem.file(cos("foreign.png"))],
      [elem.image("https://example.com/a.png")],
      [elem.sound(unsafe)],
    ]);

    const result = await captureHourMedia({ chatType: "C2C", msgTime: HOUR }, deps);

    const captured = (name: string, tencentStatus: 0 | 1, contentType: string, n = 700) => ({
      rawUrl: cos(name),
      status: "captured",
      tencentStatus,
      key: mediaKey(cos(name)),
      size: n,
      sha256: sha256Hex(bytes(name, n)),
      contentType,
    });
    const manifest = await readMediaManifest(store, "C2C", HOUR);
    expect(manifest?.items).toEqual([
      captured("orig.png", 0, "image/x-test"),
      captured("large.png", 0, "image/x-test"),
      captured("thumb.png", 0, "image/x-test"),
      captured("voice.m4a", 0, "image/x-test"),
      captured("contract.pdf", 1, "application/pdf", 4000),
      captured("clip.mp4", 0, "image/x-test"),
      captured("cover.jpg", 0, "image/x-test"),
      { rawUrl: cos("gone.png"), status: "missing", tencentStatus: 2 },
      {
        rawUrl: cos("foreign.png"),
        status: "refused",
        tencentStatus: 2,
        reason: "get_cos_sig answered Code 1002: not an IM SDK file",
      },
      { rawUrl: "https://example.com/a.png", status: "refused", reason: "not on the COS media hosts" },
      { rawUrl: unsafe, status: "refused", reason: "unsafe URL: the path has a dot segment" },
    ]);
    expect(manifest).toMatchObject({
      version: 1,
      chatType: "C2C",
      msgTime: HOUR,
      capturedAt: new Date(NOW).toISOString(),
    });
    for (const name of [...normal, "contract.pdf"]) {
      const n = name === "contract.pdf" ? 4000 : 700;
      expect(await readFile(join(dir, mediaKey(cos(name))))).toEqual(bytes(name, n));
      expect(fake.downloadsOf(cos(name))).toBe(1);
      expect((await readMediaIndexEntry(store, mediaKey(cos(name))))?.sha256).toBe(sha256Hex(bytes(name, n)));
    }
    expect(fake.downloadsOf(cos("gone.png")) + fake.downloadsOf(cos("foreign.png"))).toBe(0);
    expect(fake.signedUrls).not.toContain("https://example.com/a.png");
    expect(fake.signedUrls).not.toContain(unsafe);
    expect(result).toEqual({
      outcome: "captured",
      counts: { captured: 7, missing: 1, refused: 3 },
      fetched: 7,
      reused: 0,
      bytes: 6 * 700 + 4000,
      signCalls: 1,
    });
    expect(metrics.counts.get(METRIC.mediaCaptured)).toBe(7);
    expect(metrics.counts.get(METRIC.mediaMissing)).toBe(1);
    expect(metrics.counts.get(METRIC.mediaRefused)).toBe(3);
    expect(metrics.counts.get(METRIC.mediaBytes)).toBe(6 * 700 + 4000);
  });

  it("fetches an object once however many times and spellings the hour holds it", async () => {
    fake.add(cos("a.png"), { body: bytes("a") });
    const thumb = `${cos("a.png")}?imageMogr2/thumbnail/198x`;
    await storeArchivedHour(store, "Group", HOUR, [
      [elem.image(cos("a.png"), thumb)],
      [elem.image(cos("a.png"))],
      [elem.file(cos("a.png"))],
    ]);

    const result = await captureHourMedia({ chatType: "Group", msgTime: HOUR }, deps);

    expect(fake.downloadsOf(cos("a.png"))).toBe(1);
    expect(fake.signedUrls).toEqual([cos("a.png")]);
    const items = (await readMediaManifest(store, "Group", HOUR))?.items;
    expect(items?.map((i) => [i.rawUrl, i.status, "key" in i ? i.key : undefined])).toEqual([
      [cos("a.png"), "captured", mediaKey(cos("a.png"))],
      [thumb, "captured", mediaKey(cos("a.png"))],
    ]);
    expect(result.fetched).toBe(1);
  });

  it("does not fetch or sign again an object an earlier hour captured; its recorded figures are used", async () => {
    fake.add(cos("shared.png"), { body: bytes("shared"), status: 1, contentType: "image/png" });
    fake.add(cos("new.png"), { body: bytes("new") });
    await storeArchivedHour(store, "C2C", HOUR, [[elem.image(cos("shared.png"))]]);
    await storeArchivedHour(store, "C2C", NEXT_HOUR, [
      [elem.image(cos("shared.png"))],
      [elem.image(cos("new.png"))],
    ]);
    await captureHourMedia({ chatType: "C2C", msgTime: HOUR }, deps);
    fake.signCalls.length = 0;

    const result = await captureHourMedia({ chatType: "C2C", msgTime: NEXT_HOUR }, deps);

    expect(fake.downloadsOf(cos("shared.png"))).toBe(1);
    expect(fake.signedUrls).toEqual([cos("new.png")]);
    expect((await readMediaManifest(store, "C2C", NEXT_HOUR))?.items[0]).toEqual({
      rawUrl: cos("shared.png"),
      status: "captured",
      tencentStatus: 1,
      key: mediaKey(cos("shared.png")),
      size: 700,
      sha256: sha256Hex(bytes("shared")),
      contentType: "image/png",
    });
    expect(result).toMatchObject({ fetched: 1, reused: 1, bytes: 700 });
  });

  it("adopts an object stored without its index entry (a run died between the two) by hashing it, not fetching it", async () => {
    fake.add(cos("a.png"), { body: bytes("a") });
    await store.put(mediaKey(cos("a.png")), bytes("a"));
    await storeArchivedHour(store, "C2C", HOUR, [[elem.image(cos("a.png"))]]);

    const result = await captureHourMedia({ chatType: "C2C", msgTime: HOUR }, deps);

    expect(fake.downloadsOf(cos("a.png"))).toBe(0);
    expect((await readMediaManifest(store, "C2C", HOUR))?.items[0]).toMatchObject({
      status: "captured",
      tencentStatus: 0,
      sha256: sha256Hex(bytes("a")),
    });
    expect((await readMediaIndexEntry(store, mediaKey(cos("a.png"))))?.sha256).toBe(sha256Hex(bytes("a")));
    expect(result).toMatchObject({ fetched: 0, reused: 1 });
  });

  it("asks get_cos_sig in batches of signBatchSize", async () => {
    const names = ["1.png", "2.png", "3.png", "4.png", "5.png"];
    for (const name of names) fake.add(cos(name), { body: bytes(name) });
    await storeArchivedHour(store, "C2C", HOUR, [names.map((n) => elem.image(cos(n)))]);

    const result = await captureHourMedia(
      { chatType: "C2C", msgTime: HOUR },
      withConfig({ signBatchSize: 2, concurrency: 1 }),
    );

    expect(fake.signCalls.map((c) => c.map((i) => i.RawURL))).toEqual([
      [cos("1.png"), cos("2.png")],
      [cos("3.png"), cos("4.png")],
      [cos("5.png")],
    ]);
    expect(result.signCalls).toBe(3);
  });

  it("skips an hour whose media manifest exists, without asking Tencent anything", async () => {
    fake.add(cos("a.png"), { body: bytes("a") });
    await storeArchivedHour(store, "C2C", HOUR, [[elem.image(cos("a.png"))]]);
    await captureHourMedia({ chatType: "C2C", msgTime: HOUR }, deps);
    const before = await readFile(join(dir, mediaManifestKey("C2C", HOUR)));

    const again = await captureHourMedia({ chatType: "C2C", msgTime: HOUR }, deps);

    expect(again.outcome).toBe("skipped");
    expect(fake.signCalls).toHaveLength(1);
    expect(await readFile(join(dir, mediaManifestKey("C2C", HOUR)))).toEqual(before);
  });

  it("answers no-manifest for an hour not archived yet, and writes nothing", async () => {
    const result = await captureHourMedia({ chatType: "C2C", msgTime: HOUR }, deps);

    expect(result.outcome).toBe("no-manifest");
    expect(await readMediaManifest(store, "C2C", HOUR)).toBeUndefined();
  });

  it("commits an archived hour without messages (empty) with no items", async () => {
    await storeArchivedHour(store, "C2C", HOUR, []);

    const result = await captureHourMedia({ chatType: "C2C", msgTime: HOUR }, deps);

    expect(result.outcome).toBe("captured");
    expect((await readMediaManifest(store, "C2C", HOUR))?.items).toEqual([]);
    expect(fake.signCalls).toHaveLength(0);
  });

  it("fails the hour, writing no manifest, when get_cos_sig fails", async () => {
    fake.add(cos("a.png"), { body: bytes("a") });
    await storeArchivedHour(store, "C2C", HOUR, [[elem.image(cos("a.png"))]]);
    const failing: MediaDeps = {
      ...deps,
      getCosSig: async () => {
        throw new ImTransportError("Tencent IM answered HTTP 502", { status: 502 });
      },
    };

    await expect(captureHourMedia({ chatType: "C2C", msgTime: HOUR }, failing)).rejects.toMatchObject({
      name: "ImTransportError",
      retryable: true,
    });
    expect(await readMediaManifest(store, "C2C", HOUR)).toBeUndefined();
    expect(fake.downloads).toHaveLength(0);
  });

  it("fails the hour without retrying when a raw file is not one message a line (the parser cannot read it)", async () => {
    await storeArchivedHour(store, "C2C", HOUR, [[elem.image(cos("a.png"))]]);
    const manifest = (await readManifest(store, "C2C", HOUR))!;
    const oneLine = gzipSync(`{"SdkAppId":1,"ChatType":"C2C","MsgTime":"${HOUR}","MsgList":[]}`);
    await store.put(manifest.files[0]!.key, oneLine);

    await expect(captureHourMedia({ chatType: "C2C", msgTime: HOUR }, deps)).rejects.toMatchObject({
      retryable: false,
      message: new RegExp(`media capture cannot read ${manifest.files[0]!.key}`),
    });
    expect(await readMediaManifest(store, "C2C", HOUR)).toBeUndefined();
  });
});
