import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import PostalMime from "postal-mime";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { exportRow as row, sha256Hex as sha, exportSource as source, unzipTo } from "../../testing/index.ts";
import { IntegrityError, ValidationError } from "../errors.ts";
import { mediaKey } from "../media/layout.ts";
import { type CapturedMediaItem, type MediaItem, writeMediaManifest } from "../media/manifest.ts";
import { EXPORT_LIMITS } from "../schemas/limits.ts";
import { createLocalStore, type LocalArchiveStore } from "../store/local-store.ts";
import { type ExportManifest, verifyExport } from "./manifest.ts";
import { ExportTargetError } from "./output.ts";
import { runExport } from "./run-export.ts";

/** The rsmf.zip of an exported .rsmf file, unzipped under `to` (as a reviewer's tool reads it): its entries. */
async function unzipRsmf(path: string, to: string): Promise<string[]> {
  const email = await PostalMime.parse(await readFile(path));
  const content = email.attachments[0]!.content;
  return unzipTo(
    typeof content === "string" ? Buffer.from(content, "base64") : Buffer.from(content as ArrayBuffer),
    to,
  );
}

const clock = { now: () => Date.parse("2026-12-06T02:00:00Z"), sleep: async () => {} };
const IMG = "https://cos.ap-shanghai.myqcloud.com/b/a.jpg";
const GONE = "https://cos.ap-shanghai.myqcloud.com/b/gone.jpg";

describe("runExport", () => {
  let dir: string;
  let store: LocalArchiveStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "imvault-export-unit-"));
    store = createLocalStore({ root: join(dir, "data") });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** The media manifest of the rows' hour (C2C 2026120523). */
  const writeHourMedia = (items: MediaItem[]) =>
    writeMediaManifest(store, {
      version: 1,
      chatType: "C2C",
      msgTime: "2026120523",
      capturedAt: "2026-12-05T16:30:00.000Z",
      items,
    });

  /** `rawUrl` recorded as captured from `bytes` (at its archive key), Tencent's status 1 (banned) by default. */
  const captured = (rawUrl: string, bytes: Buffer | string, tencentStatus: 0 | 1 = 1): CapturedMediaItem => ({
    rawUrl,
    status: "captured",
    tencentStatus,
    key: mediaKey(rawUrl),
    size: Buffer.byteLength(bytes),
    sha256: sha(bytes),
  });

  async function archiveMedia(bytes: Buffer, recordedSha = sha(bytes)): Promise<void> {
    await store.put(mediaKey(IMG), bytes);
    await writeHourMedia([
      { ...captured(IMG, bytes), sha256: recordedSha, contentType: "image/jpeg" },
      { rawUrl: GONE, status: "missing", tencentStatus: 2 },
    ]);
  }

  const options = (format: "jsonl" | "rsmf" | "html", out: string) => ({
    request: { user: "alice", format } as const,
    out,
    requestedBy: "tester",
    generator: "imvault test",
  });

  it("slices by conversation and day, splits a slice past the events limit, and lists the media it lacks", async () => {
    await archiveMedia(Buffer.from("jpeg bytes"));
    const rows = [
      row(1, "2026120523", "alice", "bob", { media: [IMG, GONE] }),
      ...[2, 3, 4, 5, 6].map((s) => row(s, "2026120523", "bob", "alice")),
      row(7, "2026120523", "alice", "carol"),
      row(8, "2026120600", "alice", "bob"),
    ];
    const out = join(dir, "out");

    const manifest = await runExport(
      { store, source: source(rows), clock },
      { ...options("jsonl", out), maxEventsPerSlice: 4 },
    );

    expect(manifest.slices.map((s) => [s.dt, s.conversation, s.part, s.parts, s.messages])).toEqual([
      ["2026-12-05", "alice|bob", 1, 2, 4],
      ["2026-12-05", "alice|bob", 2, 2, 2],
      ["2026-12-05", "alice|carol", 1, 1, 1],
      ["2026-12-06", "alice|bob", 1, 1, 1],
    ]);
    const lines = await Promise.all(manifest.slices.map((s) => readFile(join(out, s.file), "utf8")));
    expect(lines.join("")).toBe(rows.map((r) => `${r.raw}\n`).join(""));
    expect(await readFile(join(out, "media/cos.ap-shanghai.myqcloud.com/b/a.jpg"), "utf8")).toBe(
      "jpeg bytes",
    );
    expect(manifest.media.banned).toEqual([
      { rawUrl: IMG, key: "media/cos.ap-shanghai.myqcloud.com/b/a.jpg" },
    ]);
    expect(manifest.media.missing).toEqual([{ rawUrl: GONE, status: "missing" }]);
    expect(manifest.createdAt).toBe("2026-12-06T02:00:00.000Z");
    expect((await verifyExport(out)).problems).toEqual([]);
  });

  /** A medium rsmf reads whole, and one it streams through. */
  const SMALL = Buffer.from("jpeg bytes");
  const BIG = Buffer.from(Array.from({ length: EXPORT_LIMITS.rsmfWholeMediaBytes + 1 }, (_, i) => i % 253));

  it.each([
    ["rsmf", "read whole", SMALL],
    ["rsmf", "streamed", BIG],
    ["jsonl", "small", SMALL],
  ] as const)(
    "%s: writes nothing under --out when an archived medium (%s) no longer matches its manifest",
    async (format, _, bytes) => {
      await archiveMedia(bytes, sha("other bytes"));
      const out = join(dir, "out");

      const run = runExport(
        { store, source: source([row(1, "2026120523", "alice", "bob", { media: [IMG] })]), clock },
        options(format, out),
      );

      await expect(run).rejects.toBeInstanceOf(IntegrityError);
      expect((await readdir(dir)).filter((n) => n !== "data")).toEqual([]);
    },
  );

  it.each([
    ["read whole", SMALL],
    ["streamed", BIG],
  ] as const)("rsmf: a medium %s is in rsmf.zip byte for byte, rsmf_manifest.json last", async (_, bytes) => {
    await archiveMedia(bytes);
    const out = join(dir, "out");

    const manifest = await runExport(
      { store, source: source([row(1, "2026120523", "alice", "bob", { media: [IMG] })]), clock },
      options("rsmf", out),
    );

    const unzipped = join(dir, "unzipped");
    expect(await unzipRsmf(join(out, manifest.slices[0]!.file), unzipped)).toEqual([
      "00001-a.jpg",
      "rsmf_manifest.json",
    ]);
    expect((await readFile(join(unzipped, "00001-a.jpg"))).equals(bytes)).toBe(true);
    expect((await verifyExport(out)).problems).toEqual([]);
  });

  it("rsmf: a medium found absent when zipped is left out of rsmf.zip and listed absent on every message holding it", async () => {
    const OTHER = "https://cos.ap-shanghai.myqcloud.com/b/b.jpg";
    await store.put(mediaKey(OTHER), "other bytes");
    // IMG recorded as captured, but the store no longer has the bytes.
    await writeHourMedia([captured(IMG, "jpeg bytes", 0), captured(OTHER, "other bytes")]);
    const rows = [
      row(1, "2026120523", "alice", "bob", { media: [IMG] }),
      row(2, "2026120523", "bob", "alice", { media: [OTHER, IMG] }),
    ];
    const out = join(dir, "out");

    const manifest = await runExport({ store, source: source(rows), clock }, options("rsmf", out));

    const unzipped = join(dir, "unzipped");
    expect(await unzipRsmf(join(out, manifest.slices[0]!.file), unzipped)).toEqual([
      "00002-b.jpg",
      "rsmf_manifest.json",
    ]);
    const rsmf = JSON.parse(await readFile(join(unzipped, "rsmf_manifest.json"), "utf8")) as {
      events: { attachments?: { id: string }[]; custom: { name: string; value: string }[] }[];
    };
    const notes = (e: (typeof rsmf.events)[number]) =>
      Object.fromEntries(e.custom.filter((c) => c.name.endsWith("media")).map((c) => [c.name, c.value]));
    const absent = `absent (the archive store no longer has the bytes): ${IMG}`;
    expect(rsmf.events.map((e) => [e.attachments?.map((a) => a.id) ?? [], notes(e)])).toEqual([
      [[], { "Missing media": absent }],
      [["00002-b.jpg"], { "Banned media": OTHER, "Missing media": absent }],
    ]);
    expect(manifest.media.missing).toEqual([
      { rawUrl: IMG, status: "absent", reason: "the archive store no longer has the bytes" },
    ]);
    expect(manifest.media.copied).toBe(1);
    expect(manifest.media.banned).toEqual([
      { rawUrl: OTHER, key: "media/cos.ap-shanghai.myqcloud.com/b/b.jpg" },
    ]);
    expect((await verifyExport(out)).problems).toEqual([]);
  });

  it.each(["jsonl", "html", "rsmf"] as const)(
    "%s: a medium the store no longer has is listed as absent, and the export holds no trace of it",
    async (format) => {
      await archiveMedia(Buffer.from("jpeg bytes"));
      await store.delete("media/cos.ap-shanghai.myqcloud.com/b/a.jpg");
      const rows = [1, 2].map((s) => row(s, "2026120523", "alice", "bob", { media: [IMG] }));
      const out = join(dir, "out");

      const manifest = await runExport({ store, source: source(rows), clock }, options(format, out));

      expect(manifest.media.missing).toEqual([
        { rawUrl: IMG, status: "absent", reason: "the archive store no longer has the bytes" },
      ]);
      expect(manifest.media.copied).toBe(0);
      expect(await readdir(out)).not.toContain("media");
      expect((await verifyExport(out)).problems).toEqual([]);
    },
  );

  it("refuses a window after the last hour the table holds, before writing anything", async () => {
    const out = join(dir, "out");
    const run = runExport(
      { store, source: source([]), clock },
      { ...options("html", out), request: { user: "alice", format: "html", from: "2026120800" } },
    );

    await expect(run).rejects.toThrow(
      new ValidationError(
        "--from 2026120800 is past the archive: the message table holds 2026120500..2026120623 (Beijing time); nothing was written",
      ),
    );
    expect((await readdir(dir)).filter((n) => n !== "data")).toEqual([]);
  });

  it("refuses a non-empty --out before asking the table anything", async () => {
    const out = join(dir, "out");
    await mkdir(out);
    await writeFile(join(out, "notes.txt"), "someone's file");
    const asked: string[] = [];
    const table = source([row(1, "2026120523", "alice", "bob")]);
    const watched = {
      extent: () => {
        asked.push("extent");
        return table.extent();
      },
      counts: () => {
        asked.push("counts");
        return table.counts();
      },
      rows: () => {
        asked.push("rows");
        return table.rows();
      },
    };

    const run = runExport(
      { store, source: watched, clock },
      { ...options("jsonl", out), request: { user: "alice", format: "jsonl", from: "2026120500" } },
    );

    await expect(run).rejects.toBeInstanceOf(ExportTargetError);
    expect(asked).toEqual([]);
    expect(await readdir(out)).toEqual(["notes.txt"]);
  });

  it("an export of nobody is written, empty, with a note that says so", async () => {
    const out = join(dir, "out");

    const manifest: ExportManifest = await runExport(
      { store, source: source([]), clock },
      options("html", out),
    );

    expect(manifest.messages).toBe(0);
    expect(manifest.note).toBe("the message table holds no message of user alice in the archive");
    expect(manifest.files.map((f) => f.path)).toEqual(["index.html"]);
  });
});
