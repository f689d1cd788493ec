/**
 * Two attempts at the same hour at once (a job SQS delivers twice, two `imvault archive` runs): once
 * one of them has committed the hour, nothing the other does may remove or change a file its
 * manifest names.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buffer } from "node:stream/consumers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fakeClock, fakeFetch, makeHistoryFile } from "../../testing/history.ts";
import type { HistoryFile } from "../im/types.ts";
import { createLocalStore } from "../store/local-store.ts";
import type { ArchiveStore } from "../store/port.ts";
import { hourEnd } from "../time/msgtime.ts";
import { silentLogger } from "../util/log.ts";
import { type ArchiveDeps, archiveHour } from "./archive-hour.ts";
import { rawHourPrefix, rawKey } from "./layout.ts";
import { readManifest } from "./manifest.ts";
import { verifyArchive } from "./verify-archive.ts";

const MSG_TIME = "2026112010";
const job = { v: 1, chatType: "C2C", msgTime: MSG_TIME } as const;
const URL_A = "https://download.tim.qq.com/msg_history/2/a.gz?sign=s3cr3t";
const NOW = hourEnd(MSG_TIME) + 2 * 3_600_000;
const KEY = rawKey("C2C", MSG_TIME, "a.gz");

let dir: string;
let store: ArchiveStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "imvault-race-"));
  store = createLocalStore({ root: dir });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function deps(
  over: Partial<ArchiveDeps> & Pick<ArchiveDeps, "getHistory" | "fetch">,
  maxAttemptsPerFile = 1,
): ArchiveDeps {
  return {
    store,
    clock: fakeClock(NOW),
    logger: silentLogger,
    random: () => 0.5,
    config: {
      settleHours: 6,
      maxAttemptsPerFile,
      downloadHosts: ["*.tim.qq.com"],
      idleTimeoutMs: 5_000,
      retryBaseDelayMs: 1,
    },
    ...over,
  };
}

/** A download answer whose bytes arrive only once `gate` has settled. */
function answerAfter(gate: Promise<unknown>, bytes: Buffer): Response {
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      await gate.catch(() => {});
      controller.enqueue(new Uint8Array(bytes));
      controller.close();
    },
  });
  return new Response(body);
}

function corrupted(gz: Buffer): Buffer {
  const copy = Buffer.from(gz);
  copy[Math.floor(copy.length / 2)]! ^= 0xff;
  return copy;
}

async function storedKeys(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list(prefix)) keys.push(o.key);
  return keys;
}

describe("archiveHour, two attempts at one hour", () => {
  it("an attempt failing after another committed the hour leaves the committed file in place", async () => {
    // Arrange: B starts first; its download delivers corrupt bytes only after A has committed.
    const a = makeHistoryFile("C2C", MSG_TIME, 40, URL_A, NOW + 3_600_000);
    const getHistory = async (): Promise<HistoryFile[]> => [a.history];
    let releaseB: (value?: unknown) => void = () => {};
    const aCommitted = new Promise((resolve) => {
      releaseB = resolve;
    });
    const fetchB = fakeFetch(new Map([[URL_A, () => answerAfter(aCommitted, corrupted(a.gz))]]));
    const fetchA = fakeFetch(new Map([[URL_A, () => new Response(a.gz)]]));

    // Act
    const b = archiveHour(job, deps({ getHistory, fetch: fetchB }));
    b.catch(() => {});
    const resultA = await archiveHour(job, deps({ getHistory, fetch: fetchA }));
    releaseB();
    const outcomeB = await b.then(
      (r) => r.outcome,
      (e: Error) => e.name,
    );

    // Assert: A committed; whatever B ended with, the file A's manifest names is there, unchanged.
    expect(resultA.outcome).toBe("archived");
    expect(fetchB.calls).toHaveLength(1);
    expect(["skipped", "ArchiveFailedError"]).toContain(outcomeB);
    const report = await verifyArchive(store);
    expect(report.problems).toEqual([]);
    expect(report.files).toBe(1);
    expect((await buffer(await store.get(KEY))).equals(a.gz)).toBe(true);
  });

  it("an attempt finishing its file after another committed the hour keeps the committed file and reports skipped", async () => {
    // Arrange: B's (good) bytes arrive only after A has committed.
    const a = makeHistoryFile("C2C", MSG_TIME, 40, URL_A, NOW + 3_600_000);
    const getHistory = async (): Promise<HistoryFile[]> => [a.history];
    let releaseB: (value?: unknown) => void = () => {};
    const aCommitted = new Promise((resolve) => {
      releaseB = resolve;
    });
    const fetchB = fakeFetch(new Map([[URL_A, () => answerAfter(aCommitted, a.gz)]]));
    const fetchA = fakeFetch(new Map([[URL_A, () => new Response(a.gz)]]));

    // Act
    const b = archiveHour(job, deps({ getHistory, fetch: fetchB }));
    b.catch(() => {});
    const resultA = await archiveHour(job, deps({ getHistory, fetch: fetchA }));
    const committed = await store.head(KEY);
    releaseB();
    const resultB = await b;

    // Assert
    expect(resultA.outcome).toBe("archived");
    expect(resultB.outcome).toBe("skipped");
    expect((await verifyArchive(store)).problems).toEqual([]);
    expect(await store.head(KEY)).toEqual(committed);
    expect(await storedKeys(rawHourPrefix("C2C", MSG_TIME))).toEqual([KEY]);
    expect((await readManifest(store, "C2C", MSG_TIME))?.files.map((f) => f.key)).toEqual([KEY]);
  });

  it("keeps the verified file an earlier, unfinished attempt left at the key, without replacing it", async () => {
    const a = makeHistoryFile("C2C", MSG_TIME, 40, URL_A, NOW + 3_600_000);
    await store.put(KEY, a.gz);
    const left = await store.head(KEY);
    const fetch = fakeFetch(new Map([[URL_A, () => new Response(a.gz)]]));

    const result = await archiveHour(job, deps({ getHistory: async () => [a.history], fetch }));

    expect(result).toMatchObject({ outcome: "archived", files: 1, attempts: 1 });
    expect(await store.head(KEY)).toEqual(left);
    expect((await verifyArchive(store)).problems).toEqual([]);
  });

  it("never replaces other bytes found at the key: stores the file under its content key, then clears the stale one", async () => {
    // Arrange: an unfinished attempt left other bytes under the name (Tencent served it differently).
    const a = makeHistoryFile("C2C", MSG_TIME, 40, URL_A, NOW + 3_600_000);
    const stale = makeHistoryFile("C2C", MSG_TIME, 41, URL_A, NOW + 3_600_000);
    await store.put(KEY, stale.gz);
    const fetch = fakeFetch(new Map([[URL_A, () => new Response(a.gz)]]));

    // Act
    const result = await archiveHour(job, deps({ getHistory: async () => [a.history], fetch }, 3));

    // Assert
    const ownKey = rawKey("C2C", MSG_TIME, `${a.history.gzipMd5}-a.gz`);
    expect(result).toMatchObject({ outcome: "archived", files: 1, attempts: 2 });
    expect((await readManifest(store, "C2C", MSG_TIME))?.files.map((f) => f.key)).toEqual([ownKey]);
    expect((await buffer(await store.get(ownKey))).equals(a.gz)).toBe(true);
    expect(await storedKeys(rawHourPrefix("C2C", MSG_TIME))).toEqual([ownKey]);
    expect((await verifyArchive(store)).problems).toEqual([]);
  });
});
