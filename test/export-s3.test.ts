/**
 * An export whose archive is an S3 bucket (fauxqs): the media are read through the S3 store port and
 * land in the export byte for byte, beside jsonl lines and inside an RSMF file's rsmf.zip alike.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ArchiveStore, writeMediaManifest } from "@imvault/im-core";
import { runExport, verifyExport } from "@imvault/im-core/export";
import { createS3Store } from "@imvault/im-core/s3";
import { exportRow, exportSource } from "@imvault/im-core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalAws, startLocalAws } from "./support/fauxqs.ts";
import { readRsmf } from "./support/rsmf.ts";

const URL_A = "https://cos.ap-shanghai.myqcloud.com/bucket/a/video.mp4";
const KEY_A = "media/cos.ap-shanghai.myqcloud.com/bucket/a/video.mp4";

describe("export from an archive in S3", () => {
  let aws: LocalAws;
  let store: ArchiveStore;
  let dir: string;
  const bytes = randomBytes(3 * 1024 * 1024 + 17);

  beforeAll(async () => {
    aws = await startLocalAws();
    store = createS3Store({ client: aws.s3, bucket: await aws.createBucket() });
    dir = await mkdtemp(join(tmpdir(), "imvault-export-s3-"));
    await store.put(KEY_A, bytes);
    const { createHash } = await import("node:crypto");
    await writeMediaManifest(store, {
      version: 1,
      chatType: "C2C",
      msgTime: "2026120510",
      capturedAt: "2026-12-05T03:00:00.000Z",
      items: [
        {
          rawUrl: URL_A,
          status: "captured",
          tencentStatus: 0,
          key: KEY_A,
          size: bytes.length,
          sha256: createHash("sha256").update(bytes).digest("hex"),
          contentType: "video/mp4",
        },
      ],
    });
  });

  afterAll(async () => {
    await aws?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const rows = () => [
    exportRow(1, "2026120510", "alice", "bob", { media: [URL_A] }),
    exportRow(2, "2026120510", "bob", "alice"),
  ];
  const clock = { now: () => Date.parse("2026-12-06T00:00:00Z"), sleep: async () => {} };

  it("jsonl: the medium copied from the bucket is byte-identical, and the export verifies", async () => {
    const out = join(dir, "jsonl");

    const manifest = await runExport(
      { store, source: exportSource(rows()), clock },
      { request: { user: "alice", format: "jsonl" }, out, requestedBy: "test", generator: "imvault test" },
    );

    expect(manifest.media.copied).toBe(1);
    expect((await readFile(join(out, KEY_A))).equals(bytes)).toBe(true);
    expect((await verifyExport(out)).problems).toEqual([]);
  });

  it("rsmf: the medium inside rsmf.zip is byte-identical", async () => {
    const out = join(dir, "rsmf");

    const manifest = await runExport(
      { store, source: exportSource(rows()), clock },
      { request: { user: "alice", format: "rsmf" }, out, requestedBy: "test", generator: "imvault test" },
    );

    const rsmf = await readRsmf(join(out, manifest.slices[0]!.file));
    const attachments = [...rsmf.files].filter(([name]) => name !== "rsmf_manifest.json");
    expect(attachments).toHaveLength(1);
    expect(attachments[0]![1].equals(bytes)).toBe(true);
  });
});
