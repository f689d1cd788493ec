/**
 * The local store's deferred durability: a put with `durability: "deferred"` is in place whole when it
 * resolves (its bytes fsynced before its name appears, as every put's), but the directory entries it
 * made are fsynced only by syncDeferred, all of them at once: its directory and every directory made
 * for it, up to the store's root. An immediate put fsyncs its directory before it resolves. The
 * directory fsyncs are seen as node:fs/promises opening a directory for reading.
 */
import * as fsp from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createLocalStore, type LocalArchiveStore } from "./local-store.ts";

vi.mock("node:fs/promises", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:fs/promises")>();
  return { ...actual, open: vi.fn(actual.open) };
});
const real = await vi.importActual<typeof import("node:fs/promises")>("node:fs/promises");

describe("local store, deferred durability", () => {
  let root: string;
  let store: LocalArchiveStore;
  /** Directories opened for reading (to fsync them), in order. */
  let synced: string[];

  beforeEach(async () => {
    root = await real.mkdtemp(join(tmpdir(), "imvault-deferred-"));
    store = createLocalStore({ root });
    await store.put("media-manifests/existing.json", "{}");
    synced = [];
    vi.mocked(fsp.open).mockImplementation(async (path, flags, mode) => {
      if (flags === "r" && (await real.stat(path)).isDirectory()) synced.push(String(path));
      return real.open(path, flags, mode);
    });
  });

  afterEach(async () => {
    vi.mocked(fsp.open).mockImplementation(real.open);
    await real.rm(root, { recursive: true, force: true });
  });

  it("an immediate put fsyncs its directory before it resolves", async () => {
    await store.put("media-manifests/a.json", "{}");

    expect(synced).toEqual([join(root, "media-manifests")]);
  });

  it("deferred puts are readable at once and fsync no directory; syncDeferred fsyncs each directory they made, once", async () => {
    await store.put("media/h/b/d1/e1/x.png", Buffer.from("x"), { ifNoneMatch: true, durability: "deferred" });
    await store.put("media/h/b/d1/e1/y.png", Buffer.from("yy"), {
      ifNoneMatch: true,
      durability: "deferred",
    });
    await store.put("media/h/b/d2/e2/z.png", Buffer.from("zzz"), {
      ifNoneMatch: true,
      durability: "deferred",
    });

    expect((await real.readFile(join(root, "media/h/b/d1/e1/y.png"))).toString()).toBe("yy");
    expect(synced).toEqual([]);

    await store.syncDeferred();

    const made = ["", "media", "media/h", "media/h/b", "media/h/b/d1", "media/h/b/d1/e1", "media/h/b/d2"];
    expect([...synced].sort()).toEqual(
      [...made, "media/h/b/d2/e2"].map((d) => (d === "" ? root : join(root, d))).sort(),
    );
    synced.length = 0;
    await store.syncDeferred();
    expect(synced).toEqual([]);
  });

  it("a deferred put into a directory seen before leaves only that directory to syncDeferred", async () => {
    await store.put("media/h/b/d/e/x.png", "x", { ifNoneMatch: true, durability: "deferred" });
    await store.syncDeferred();
    synced.length = 0;

    await store.put("media/h/b/d/e/y.png", "y", { ifNoneMatch: true, durability: "deferred" });
    await store.syncDeferred();

    expect(synced).toEqual([join(root, "media/h/b/d/e")]);
  });

  it("syncDeferred does not resolve while an earlier call is still fsyncing the directories it took", async () => {
    // Two hours captured at once share the store: the first hour's call takes every directory made
    // so far, the second hour's (nothing left to take) must still wait for those fsyncs before its
    // manifest may name objects in them.
    await store.put("media/h/b/d/e/x.png", "x", { ifNoneMatch: true, durability: "deferred" });
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    vi.mocked(fsp.open).mockImplementation(async (path, flags, mode) => {
      if (flags === "r" && (await real.stat(path)).isDirectory()) await held;
      return real.open(path, flags, mode);
    });
    let secondDone = false;

    const first = store.syncDeferred();
    const second = store.syncDeferred().then(() => {
      secondDone = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const doneWhileHeld = secondDone;
    release();
    await Promise.all([first, second]);

    expect(doneWhileHeld).toBe(false);
    expect(secondDone).toBe(true);
  });
});
