import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeHistoryFile } from "../../testing/history.ts";
import { rawKey } from "../archive/layout.ts";
import { type Manifest, writeManifest } from "../archive/manifest.ts";
import { IntegrityError } from "../errors.ts";
import { createLocalStore, type LocalArchiveStore } from "../store/local-store.ts";
import { indexHour, TABLE_PREFIX, tableKeyOf, tableMeta } from "./index-hour.ts";
import { TABLE_META } from "./message-parquet.ts";

const HOUR = "2024030112";
const job = { chatType: "C2C" as const, msgTime: HOUR };

describe("indexHour", () => {
  let dir: string;
  let store: LocalArchiveStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "imvault-index-"));
    store = createLocalStore({ root: dir, urlFor: (k) => `https://files.test/${k}` });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Archives an hour of two files; `lie` makes the manifest's MD5 of the first file wrong. */
  async function archive(lie = false): Promise<Manifest> {
    const files = [
      makeHistoryFile("C2C", HOUR, 25, "https://x.tim.qq.com/a.gz", 0),
      makeHistoryFile("C2C", HOUR, 3, "https://x.tim.qq.com/b.gz", 0),
    ];
    const manifest: Manifest = {
      version: 1,
      chatType: "C2C",
      msgTime: HOUR,
      status: "archived",
      archivedAt: new Date(0).toISOString(),
      files: await Promise.all(
        files.map(async (f, i) => {
          const key = rawKey("C2C", HOUR, `${"ab"[i]}.gz`);
          await store.put(key, f.gz);
          const gzipMd5 = lie && i === 0 ? "0".repeat(32) : f.history.gzipMd5;
          return {
            key,
            sourceUrl: f.history.url,
            gzipSize: f.gz.length,
            gzipMd5,
            fileSize: f.plain.length,
            fileMd5: f.history.fileMd5,
            messageCount: f.messages,
          };
        }),
      ),
    };
    await writeManifest(store, manifest);
    return manifest;
  }

  it("writes one table file per raw file, named after it, whose metadata names the raw file", async () => {
    const manifest = await archive();

    const result = await indexHour(job, { store });

    expect(result.outcome).toBe("indexed");
    expect(result.files.map((f) => [f.tableKey, f.written, f.messages])).toEqual([
      ["tables/messages/chat_type=C2C/dt=2024-03-01/hour=12/a.gz.parquet", true, 25],
      ["tables/messages/chat_type=C2C/dt=2024-03-01/hour=12/b.gz.parquet", true, 3],
    ]);
    const meta = await tableMeta(store, tableKeyOf(manifest.files[0]!.key));
    expect(meta?.[TABLE_META.sourceKey]).toBe(manifest.files[0]!.key);
    expect(meta?.[TABLE_META.sourceGzipMd5]).toBe(manifest.files[0]!.gzipMd5);
    expect(meta?.[TABLE_META.sourceFileMd5]).toBe(manifest.files[0]!.fileMd5);
  });

  it("leaves current table files alone, and writes them again on rebuild", async () => {
    await archive();
    await indexHour(job, { store });

    const again = await indexHour(job, { store });
    const rebuilt = await indexHour(job, { store }, { rebuild: true });

    expect([again.outcome, again.files.map((f) => f.written)]).toEqual(["current", [false, false]]);
    expect([rebuilt.outcome, rebuilt.files.map((f) => f.written)]).toEqual(["indexed", [true, true]]);
  });

  it("refuses a raw file whose bytes are not the manifest's, leaving no table file for it", async () => {
    await archive(true);

    await expect(indexHour(job, { store })).rejects.toThrow(IntegrityError);

    const left = await readdir(join(dir, TABLE_PREFIX), { recursive: true }).catch(() => []);
    expect(left.filter((f) => String(f).endsWith(".parquet"))).toEqual([]);
  });

  it("says when there is nothing to index: no manifest, or an hour without files", async () => {
    expect((await indexHour(job, { store })).outcome).toBe("not-archived");
    await writeManifest(store, {
      version: 1,
      chatType: "C2C",
      msgTime: HOUR,
      status: "empty",
      files: [],
      archivedAt: "x",
    });
    expect((await indexHour(job, { store })).outcome).toBe("nothing");
  });
});
