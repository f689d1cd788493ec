import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { IntegrityError, ValidationError } from "../errors.ts";
import { createLocalStore, type LocalArchiveStore } from "../store/local-store.ts";
import { legacyMediaIndexKeyFor, mediaIndexKeyFor, mediaManifestKey } from "./layout.ts";
import {
  type MediaManifest,
  parseMediaManifest,
  readMediaIndexEntry,
  readMediaManifest,
  writeMediaIndexEntry,
  writeMediaManifest,
} from "./manifest.ts";

const SHA = "a".repeat(64);
const manifest: MediaManifest = {
  version: 1,
  chatType: "C2C",
  msgTime: "2024030118",
  items: [
    {
      rawUrl: "https://c.myqcloud.com/a/b.png",
      status: "captured",
      tencentStatus: 1,
      key: "media/c.myqcloud.com/a/b.png",
      size: 3,
      sha256: SHA,
      contentType: "image/png",
    },
    { rawUrl: "https://c.myqcloud.com/a/c.png", status: "missing", tencentStatus: 2 },
    { rawUrl: "https://example.com/d.png", status: "refused", reason: "not on the COS media hosts" },
  ],
  capturedAt: "2024-03-01T12:00:00.000Z",
};

describe("media manifest", () => {
  let dir: string;
  let store: LocalArchiveStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "imvault-media-manifest-"));
    store = createLocalStore({ root: dir });
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("is written once at its key as SPEC's JSON and read back the same", async () => {
    expect(await readMediaManifest(store, "C2C", "2024030118")).toBeUndefined();

    expect(await writeMediaManifest(store, manifest)).toBe(true);

    const onDisk = JSON.parse(await readFile(join(dir, mediaManifestKey("C2C", "2024030118")), "utf8"));
    expect(onDisk).toEqual(manifest);
    expect(Object.keys(onDisk)).toEqual(["version", "chatType", "msgTime", "items", "capturedAt"]);
    expect(await readMediaManifest(store, "C2C", "2024030118")).toEqual(manifest);
  });

  it("never replaces a manifest already written: a second writer gets false and the first stands", async () => {
    await writeMediaManifest(store, manifest);

    const second = await writeMediaManifest(store, { ...manifest, items: [] });

    expect(second).toBe(false);
    expect((await readMediaManifest(store, "C2C", "2024030118"))?.items).toHaveLength(3);
  });

  it.each([
    ["a captured item without its SHA-256", { ...manifest.items[0], sha256: undefined }],
    ["a captured item whose key is not under media/", { ...manifest.items[0], key: "raw/x" }],
    ["a missing item with Tencent status 0", { ...manifest.items[1], tencentStatus: 0 }],
    ["a refused item without a reason", { rawUrl: "https://x/y", status: "refused" }],
    ["an unknown status", { rawUrl: "https://x/y", status: "lost", tencentStatus: 2 }],
    ["a Tencent status of 3", { ...manifest.items[0], tencentStatus: 3 }],
  ])("refuses to read or write %s", async (_what, item) => {
    const bad = { ...manifest, items: [item] };

    expect(() => parseMediaManifest(JSON.stringify(bad), "k")).toThrow(IntegrityError);
    await expect(writeMediaManifest(store, bad as MediaManifest)).rejects.toThrow(ValidationError);
    expect(await readMediaManifest(store, "C2C", "2024030118")).toBeUndefined();
  });

  it("reports a stored manifest that is not JSON as an IntegrityError naming its key", async () => {
    await store.put(mediaManifestKey("Group", "2024030118"), "{not json");

    await expect(readMediaManifest(store, "Group", "2024030118")).rejects.toThrow(
      /media-manifests\/chat_type=Group/,
    );
  });
});

describe("media index entries", () => {
  let dir: string;
  let store: LocalArchiveStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "imvault-media-index-"));
    store = createLocalStore({ root: dir });
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("records an object's figures under media-index/ once; a later entry does not replace it", async () => {
    const entry = anEntry();

    expect(await readMediaIndexEntry(store, entry.key)).toBeUndefined();
    expect(await writeMediaIndexEntry(store, entry)).toBe(true);
    expect(await writeMediaIndexEntry(store, { ...entry, size: 4 })).toBe(false);

    expect(await readMediaIndexEntry(store, entry.key)).toEqual(entry);
    expect(await store.head(mediaIndexKeyFor(entry.key))).toBeDefined();
  });

  it("still reads an entry recorded where entries were kept before (media-index/{host}/{path}.json)", async () => {
    const entry = { ...anEntry(), key: "media/c.myqcloud.com/old/b.png" };
    await store.put(legacyMediaIndexKeyFor(entry.key), JSON.stringify(entry));

    expect(await readMediaIndexEntry(store, entry.key)).toEqual(entry);
  });

  it("refuses an entry that names another object than the one looked up", async () => {
    const key = "media/c.myqcloud.com/a/b.png";
    await store.put(
      mediaIndexKeyFor(key),
      JSON.stringify({ ...anEntry(), key: "media/c.myqcloud.com/a/c.png" }),
    );

    await expect(readMediaIndexEntry(store, key)).rejects.toThrow(IntegrityError);
  });
});

function anEntry() {
  return {
    version: 1 as const,
    key: "media/c.myqcloud.com/a/b.png",
    rawUrl: "https://c.myqcloud.com/a/b.png",
    size: 3,
    sha256: SHA,
    tencentStatus: 0 as const,
    capturedAt: "2024-03-01T12:00:00.000Z",
  };
}
