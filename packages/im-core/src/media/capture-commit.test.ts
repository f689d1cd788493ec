/**
 * How an hour's media are committed: every object and index entry is put with deferred durability,
 * the store makes them durable at once (syncDeferred) after the last of them, and only then is the
 * media manifest written. A run that dies in between (after its objects, before their index entries
 * or the manifest) leaves only whole objects and no manifest, and the next run converges: it hashes
 * what is stored instead of fetching it again, records the entries and commits the hour.
 */
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  elem,
  FakeCos,
  fakeClock,
  recordingLogger,
  sha256Hex,
  storeArchivedHour,
} from "../../testing/index.ts";
import { createLocalStore, type LocalArchiveStore } from "../store/local-store.ts";
import type { ArchiveStore } from "../store/port.ts";
import { captureHourMedia, DEFAULT_MEDIA_CONFIG, type MediaDeps } from "./capture-hour.ts";
import { mediaKey } from "./layout.ts";
import { readMediaIndexEntry, readMediaManifest } from "./manifest.ts";

const HOUR = "2024030118";
const NOW = Date.parse("2024-03-01T13:30:00Z");
const NAMES = ["a.png", "b.m4a", "c.mp4", "d.pdf"];
const cos = (name: string) =>
  `https://cos.ap-shanghai.myqcloud.com/98ec-shanghai-007-privatev2-01-1256635546/0345-1400000000/0612-u1/${name}`;
const bytes = (name: string) => Buffer.alloc(900 + name.length, name);

/** The store, logging each write (key and durability) and each syncDeferred, in order. */
function loggingStore(store: ArchiveStore, log: string[]): ArchiveStore {
  return {
    ...store,
    put(key, body, options) {
      const done = store.put(key, body, options);
      return done.then((answer) => {
        log.push(`put ${key.split("/")[0]} ${options?.durability ?? "immediate"}`);
        return answer;
      });
    },
    async syncDeferred() {
      await store.syncDeferred();
      log.push("syncDeferred");
    },
  };
}

/** The store, dying (rejecting) at the first put under `prefix` or at syncDeferred. */
function dyingStore(store: ArchiveStore, at: "media-index/" | "syncDeferred"): ArchiveStore {
  const died = () => new Error("the process died here");
  return {
    ...store,
    put(key, body, options) {
      if (at !== "syncDeferred" && key.startsWith(at)) return Promise.reject(died());
      return store.put(key, body, options);
    },
    async syncDeferred() {
      if (at === "syncDeferred") throw died();
      return store.syncDeferred();
    },
  };
}

async function sha256OfStored(store: ArchiveStore, key: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of await store.get(key)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

async function keysUnder(store: ArchiveStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of store.list(prefix)) keys.push(info.key);
  return keys;
}

describe("committing an hour's media", () => {
  let dir: string;
  let store: LocalArchiveStore;
  let fake: FakeCos;
  let deps: MediaDeps;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "imvault-media-commit-"));
    store = createLocalStore({ root: dir });
    const clock = fakeClock(NOW);
    fake = new FakeCos(clock);
    for (const name of NAMES) fake.add(cos(name), { body: bytes(name) });
    await storeArchivedHour(store, "C2C", HOUR, [NAMES.map((n) => elem.file(cos(n)))]);
    deps = {
      store,
      getCosSig: fake.getCosSig,
      fetch: fake.fetch,
      clock,
      logger: recordingLogger(),
      random: () => 0.5,
      config: { ...DEFAULT_MEDIA_CONFIG, downloadHosts: ["*.myqcloud.com"], maxAttempts: 1 },
    };
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("puts objects and index entries deferred, makes them durable in one syncDeferred, then writes the manifest", async () => {
    const log: string[] = [];

    await captureHourMedia({ chatType: "C2C", msgTime: HOUR }, { ...deps, store: loggingStore(store, log) });

    const objects = NAMES.map(() => "put media deferred");
    const entries = NAMES.map(() => "put media-index deferred");
    expect(log.slice(0, NAMES.length).sort()).toEqual(objects);
    expect(log.slice(NAMES.length, 2 * NAMES.length)).toEqual(entries);
    expect(log.slice(2 * NAMES.length)).toEqual(["syncDeferred", "put media-manifests immediate"]);
  });

  it.each(["media-index/", "syncDeferred"] as const)(
    "a run that dies at %s leaves whole objects and no manifest; the rerun commits the hour without fetching them again",
    async (at) => {
      // Act 1: the run dies after storing its objects.
      await expect(
        captureHourMedia({ chatType: "C2C", msgTime: HOUR }, { ...deps, store: dyingStore(store, at) }),
      ).rejects.toThrow("the process died here");

      // Assert 1: no commit point; every visible object is whole.
      expect(await readMediaManifest(store, "C2C", HOUR)).toBeUndefined();
      const left = await keysUnder(store, "media/");
      expect(left.sort()).toEqual(NAMES.map((n) => mediaKey(cos(n))).sort());
      for (const name of NAMES) {
        expect(await sha256OfStored(store, mediaKey(cos(name)))).toBe(sha256Hex(bytes(name)));
      }

      // Act 2: run again.
      const result = await captureHourMedia({ chatType: "C2C", msgTime: HOUR }, deps);

      // Assert 2: committed with the right figures, nothing downloaded twice, every entry recorded.
      expect(result).toMatchObject({ outcome: "captured", fetched: 0, reused: NAMES.length });
      const manifest = await readMediaManifest(store, "C2C", HOUR);
      for (const name of NAMES) {
        expect(fake.downloadsOf(cos(name))).toBe(1);
        expect(manifest?.items.find((i) => i.rawUrl === cos(name))).toMatchObject({
          status: "captured",
          sha256: sha256Hex(bytes(name)),
          size: bytes(name).length,
        });
        expect((await readMediaIndexEntry(store, mediaKey(cos(name))))?.sha256).toBe(sha256Hex(bytes(name)));
      }
    },
  );
});
