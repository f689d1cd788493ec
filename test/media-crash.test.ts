/**
 * kill -9 in the middle of a big media download loses nothing and leaves nothing half-written: media
 * capture runs in a child process (test/support/media-capture-child.ts) against the simulator and is
 * SIGKILLed while a 64 MiB object trickles in, after the hour's other objects were fetched. Then no
 * media manifest exists, every object visible under media/ holds exactly the bytes the simulator
 * serves (the big one is not there at all), and a second run completes the hour: manifest written,
 * every captured object's SHA-256 equal to the simulator's, and nothing the killed run stored fetched
 * again. Once with the local store (whose partial temp file the rerun removes), once with S3 (fauxqs).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import {
  type ArchiveStore,
  addHours,
  archiveHour,
  createLocalStore,
  defaultArchiveConfig,
  getHistory,
  hourOf,
  ImClient,
  LOCAL_STATE_DIR,
  mediaKey,
  mediaUrls,
  readGzipHistory,
  readManifest,
  readMediaManifest,
  silentLogger,
} from "@imvault/im-core";
import { createS3Store } from "@imvault/im-core/s3";
import { type Simulator, startSimulator, TEST_ADMIN, TEST_SDKAPPID, TEST_SECRET_KEY } from "@imvault/im-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalAws, startLocalAws } from "./support/fauxqs.ts";
import type { MediaChildConfig } from "./support/media-capture-child.ts";
import { waitFor } from "./support/wait.ts";

const CHILD = fileURLToPath(new URL("./support/media-capture-child.ts", import.meta.url));
const MiB = 1024 * 1024;
const BIG = 64 * MiB;
/** The big object's first download is paced at this: seconds of it are left when the kill comes. */
const TRICKLE = 2 * MiB;

async function sha256Of(stream: Readable): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest("hex"), size };
}

async function keysUnder(store: ArchiveStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of store.list(prefix)) keys.push(info.key);
  return keys;
}

/** Sizes of the files in the local store's temp directory (where a put writes before it commits). */
async function tempFileSizes(root: string): Promise<number[]> {
  const dir = join(root, LOCAL_STATE_DIR, "tmp");
  const names = await readdir(dir).catch(() => []);
  const sizes = await Promise.all(
    names.map((n) =>
      stat(join(dir, n)).then(
        (s) => s.size,
        () => 0,
      ),
    ),
  );
  return sizes;
}

function startChild(
  config: MediaChildConfig,
): ChildProcess & { exited: Promise<unknown>; output: () => string } {
  const child = spawn(process.execPath, [CHILD, JSON.stringify(config)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve(signal ?? code)));
  return Object.assign(child, { exited, output: () => output });
}

interface StoreCase {
  name: string;
  open(): Promise<{ store: ArchiveStore; child: MediaChildConfig["store"]; root?: string }>;
}

let aws: LocalAws | undefined;
const dirs: string[] = [];
const CASES: StoreCase[] = [
  {
    name: "local store",
    async open() {
      const root = await mkdtemp(join(tmpdir(), "imvault-media-crash-"));
      dirs.push(root);
      return { store: createLocalStore({ root }), child: { kind: "local", root }, root };
    },
  },
  {
    name: "S3 (fauxqs)",
    async open() {
      aws ??= await startLocalAws();
      const bucket = await aws.createBucket();
      return {
        store: createS3Store({ client: aws.s3, bucket }),
        child: { kind: "s3", endpoint: aws.endpoint, bucket },
      };
    },
  },
];

afterAll(async () => {
  await aws?.stop();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe.each(CASES)("a crash mid media download (kill -9), $name", (storeCase) => {
  let sim: Simulator;
  let store: ArchiveStore;
  let childConfig: MediaChildConfig;
  let root: string | undefined;
  /** Every distinct media URL of the hour, and the one served big. */
  let urls: string[];
  let big: string;
  const msgTime = addHours(hourOf(Date.now()), -3);
  const downloadsOf = (rawUrl: string) =>
    sim.downloads.filter((d) => d.path === `/cos/${sim.mediaObject(rawUrl)!.objectPath}`);

  beforeAll(async () => {
    sim = await startSimulator({ seed: "media-crash", volume: 200, processingDelayMinutes: 0 });
    const opened = await storeCase.open();
    store = opened.store;
    root = opened.root;
    const client = new ImClient({
      sdkAppId: TEST_SDKAPPID,
      identifier: TEST_ADMIN,
      secretKey: TEST_SECRET_KEY,
      baseUrl: sim.url,
    });
    const archived = await archiveHour(
      { v: 1, chatType: "C2C", msgTime },
      {
        getHistory: (chatType, hour, signal) => getHistory(client, chatType, hour, signal ? { signal } : {}),
        store,
        clock: { now: Date.now, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) },
        logger: silentLogger,
        config: defaultArchiveConfig([sim.url]),
      },
    );
    expect(archived.outcome).toBe("archived");
    const seen = new Set<string>();
    for (const file of (await readManifest(store, "C2C", msgTime))!.files) {
      for await (const ev of readGzipHistory(await store.get(file.key))) {
        if (ev.kind === "message") for (const m of mediaUrls(ev.message)) seen.add(m.url);
      }
    }
    urls = [...seen];
    const normal = urls.filter((u) => sim.mediaObject(u)?.status === 0);
    big = normal.find((u) => u.endsWith(".mp4")) ?? normal[0]!;
    sim.setMediaSize(big, BIG);
    childConfig = {
      simUrl: sim.url,
      sdkAppId: TEST_SDKAPPID,
      secretKey: TEST_SECRET_KEY,
      admin: TEST_ADMIN,
      store: opened.child,
      hours: [{ chatType: "C2C", msgTime }],
    };
  });
  afterAll(async () => {
    await sim?.close();
  });

  it("leaves no manifest and only whole objects, and the next run completes the hour without fetching them again", async () => {
    // Arrange: the big object trickles in; every other object the simulator has (status 0 or 1) is
    // fetched meanwhile.
    sim.faults.next({ kind: "slow", bytesPerSecond: TRICKLE, match: { mediaUrl: big } });
    const others = urls.filter((u) => u !== big && sim.mediaObject(u)!.status !== 2);
    const victim = startChild(childConfig);
    try {
      await waitFor("the big download under way, the others done", 30_000, async () => {
        const bigDownload = downloadsOf(big)[0];
        // More than an S3 part (5 MiB) or a local write batch (1 MiB) sent: the put has begun.
        if (bigDownload === undefined || bigDownload.ended || bigDownload.bytesSent < 6 * MiB)
          return undefined;
        return others.every((u) => downloadsOf(u).some((d) => d.complete)) ? true : undefined;
      });
    } catch (err) {
      victim.kill("SIGKILL");
      throw new Error(`${(err as Error).message}; the child wrote: ${victim.output()}`);
    }

    // Act 1: kill -9, mid-download.
    victim.kill("SIGKILL");
    expect(await victim.exited).toBe("SIGKILL");
    expect(downloadsOf(big)[0]).toMatchObject({ complete: false });

    // Assert 1: no commit point, and whatever is visible under media/ is whole and correct.
    expect(await keysUnder(store, "media-manifests/")).toEqual([]);
    const rawUrlOf = new Map(urls.map((u) => [mediaKey(u), u]));
    const left = await keysUnder(store, "media/");
    expect(left).not.toContain(mediaKey(big));
    expect(left.length).toBeGreaterThan(0);
    for (const key of left) {
      const served = await sha256Of(sim.mediaObject(rawUrlOf.get(key)!)!.open());
      expect(await sha256Of(await store.get(key)), key).toEqual(served);
    }
    // The local store's partial file is in its temp directory, out of sight.
    if (root !== undefined) expect((await tempFileSizes(root)).some((s) => s > 0)).toBe(true);

    // Act 2: run again, without the fault.
    sim.faults.clear();
    sim.downloads.length = 0;
    const rerun = startChild(childConfig);
    const limit = setTimeout(() => rerun.kill("SIGKILL"), 30_000);
    const code = await rerun.exited.finally(() => clearTimeout(limit));

    // Assert 2: the hour is committed, every object's bytes are the simulator's, and nothing the
    // killed run stored was fetched again.
    expect(code, rerun.output()).toBe(0);
    const manifest = await readMediaManifest(store, "C2C", msgTime);
    expect(manifest?.items.map((i) => i.rawUrl)).toEqual(urls);
    for (const item of manifest!.items) {
      const served = sim.mediaObject(item.rawUrl)!;
      if (served.status === 2) {
        expect(item.status).toBe("missing");
        continue;
      }
      const expected = await sha256Of(served.open());
      expect(item).toMatchObject({ status: "captured", ...expected });
      if (item.status === "captured") expect(await sha256Of(await store.get(item.key))).toEqual(expected);
    }
    expect(manifest!.items.find((i) => i.rawUrl === big)).toMatchObject({ size: BIG });
    for (const key of left) expect(downloadsOf(rawUrlOf.get(key)!), key).toEqual([]);
    expect(downloadsOf(big).map((d) => d.complete)).toEqual([true]);
    if (root !== undefined) expect(await tempFileSizes(root)).toEqual([]);
  });
});
