import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buffer } from "node:stream/consumers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fakeClock, fakeFetch, makeHistoryFile } from "../../testing/history.ts";
import { recordingLogger } from "../../testing/im.ts";
import { CorruptManifestError } from "../errors.ts";
import type { QueueEntry } from "../queue/port.ts";
import { createLocalStore } from "../store/local-store.ts";
import type { ArchiveStore } from "../store/port.ts";
import { hourEnd } from "../time/msgtime.ts";
import { METRIC, type MetricName } from "../util/metrics.ts";
import { type ArchiveDeps, archiveHour } from "./archive-hour.ts";
import { coverage } from "./coverage.ts";
import { manifestKey } from "./layout.ts";
import { type Manifest, readManifest, writeManifest } from "./manifest.ts";
import { plan } from "./plan.ts";
import { runSchedule } from "./schedule.ts";
import { verifyArchive } from "./verify-archive.ts";

/**
 * A manifest that is not JSON, or not a manifest, is not a commit: every reader flags it as corrupt
 * (by key), the scheduler plans the hour again, and archiving it keeps the corrupt bytes aside under
 * manifests-corrupt/ before the fresh manifest replaces them.
 */

const MSG_TIME = "2026112009";
const KEY = manifestKey("C2C", MSG_TIME);
const NOT_JSON = '{"version":1,"chatType":"C2C","msgTi';
const NOT_A_MANIFEST = '{"version":1,"chatType":"C2C","msgTime":"2026112009","status":"done"}\n';
const NOW = hourEnd(MSG_TIME) + 2 * 3_600_000;
const URL_A = "https://download.tim.qq.com/msg_history/1/a.gz?sign=s3cr3t";
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

let dir: string;
let store: ArchiveStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "imvault-corrupt-"));
  store = createLocalStore({ root: dir });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const text = async (key: string) => (await buffer(await store.get(key))).toString("utf8");
const keysUnder = async (prefix: string) => {
  const keys: string[] = [];
  for await (const o of store.list(prefix)) keys.push(o.key);
  return keys;
};
const countingMetrics = () => {
  const counts = new Map<MetricName, number>();
  return {
    counts,
    count: (name: MetricName, value = 1) => counts.set(name, (counts.get(name) ?? 0) + value),
  };
};
const validManifest = (msgTime: string): Manifest => ({
  version: 1,
  chatType: "C2C",
  msgTime,
  status: "empty",
  files: [],
  archivedAt: new Date(NOW).toISOString(),
});

describe.each([
  ["not JSON", NOT_JSON, /not JSON/],
  ["JSON but not a manifest", NOT_A_MANIFEST, /malformed/],
])("a manifest that is %s", (_what, corrupt, problem) => {
  beforeEach(async () => {
    await store.put(KEY, corrupt);
  });

  it("reads as a CorruptManifestError naming its key", async () => {
    const read = readManifest(store, "C2C", MSG_TIME);
    await expect(read).rejects.toBeInstanceOf(CorruptManifestError);
    await expect(read).rejects.toMatchObject({ key: KEY, message: expect.stringMatching(problem) });
  });

  it("shows as corrupt in the coverage table, counted in the totals", async () => {
    const cov = await coverage(store, { from: MSG_TIME, to: MSG_TIME }, ["C2C"]);

    expect(cov.rows.map((r) => [r.msgTime, r.status])).toEqual([[MSG_TIME, "corrupt"]]);
    expect(cov.totals).toMatchObject({ corrupt: 1, archived: 0, missing: 0 });
  });

  it("is planned again like a missing hour, and listed as corrupt", async () => {
    const result = await plan(store, { from: MSG_TIME, to: MSG_TIME }, NOW, {
      lookbackHours: 1,
      settleHours: 6,
      chatTypes: ["C2C"],
    });

    expect(result.jobs).toEqual([{ v: 1, chatType: "C2C", msgTime: MSG_TIME }]);
    expect(result.corrupt).toEqual([KEY]);
    expect(result.skipped).toBe(0);
  });

  it("is re-enqueued by the scheduler, which counts it in CorruptManifests and logs its key", async () => {
    const sent: QueueEntry[] = [];
    const metrics = countingMetrics();
    const logger = recordingLogger();

    await runSchedule(
      {
        store,
        queue: {
          sendBatch: async (entries) => {
            sent.push(...entries);
            return { failed: [] };
          },
        },
        clock: fakeClock(NOW),
        logger,
        metrics,
        config: { lookbackHours: 1, settleHours: 6, mediaRetentionDays: 7 },
      },
      { backfill: { from: MSG_TIME, to: MSG_TIME, chatTypes: ["C2C"] } },
    );

    // The hour is archived again; no media job is planned for a manifest known to be corrupt.
    expect(sent.map((e) => JSON.parse(e.body))).toEqual([
      { v: 1, kind: "history", chatType: "C2C", msgTime: MSG_TIME },
    ]);
    expect(metrics.counts.get(METRIC.corruptManifests)).toBe(1);
    expect(logger.lines.find((l) => l.level === "error")?.fields).toMatchObject({ keys: [KEY] });
  });

  it("fails imvault verify by name", async () => {
    const report = await verifyArchive(store);

    expect(report.problems).toEqual([
      expect.objectContaining({
        key: KEY,
        problem: "corrupt-manifest",
        detail: expect.stringMatching(problem),
      }),
    ]);
  });

  it("does not stop archiving the hour: the corrupt bytes are kept aside, then a fresh manifest is written", async () => {
    const a = makeHistoryFile("C2C", MSG_TIME, 4, URL_A, NOW + 3_600_000);
    const metrics = countingMetrics();
    const logger = recordingLogger();
    const deps: ArchiveDeps = {
      getHistory: async () => [a.history],
      fetch: fakeFetch(new Map([[URL_A, () => new Response(a.gz)]])),
      store,
      clock: fakeClock(NOW),
      logger,
      metrics,
      random: () => 0.5,
      config: {
        settleHours: 6,
        maxAttemptsPerFile: 2,
        downloadHosts: ["*.tim.qq.com"],
        idleTimeoutMs: 5_000,
        retryBaseDelayMs: 1,
      },
    };

    const result = await archiveHour({ v: 1, chatType: "C2C", msgTime: MSG_TIME }, deps);

    expect(result.outcome).toBe("archived");
    expect((await readManifest(store, "C2C", MSG_TIME))?.files).toHaveLength(1);
    const aside = `manifests-corrupt/chat_type=C2C/dt=2026-11-20/hour=09.json.${sha256(corrupt)}`;
    expect(await keysUnder("manifests-corrupt/")).toEqual([aside]);
    expect(await text(aside)).toBe(corrupt);
    expect(metrics.counts.get(METRIC.corruptManifests)).toBe(1);
    expect(logger.lines.find((l) => l.level === "error")?.fields).toMatchObject({
      key: KEY,
      setAsideAs: aside,
    });
  });
});

describe("writeManifest", () => {
  it("never replaces a valid manifest (a duplicated job committed first): it answers false", async () => {
    const first = validManifest(MSG_TIME);
    await writeManifest(store, first);

    const written = await writeManifest(store, { ...first, status: "expired" });

    expect(written).toBe(false);
    expect((await readManifest(store, "C2C", MSG_TIME))?.status).toBe("empty");
    expect(await keysUnder("manifests-corrupt/")).toEqual([]);
  });

  it("keeps two different corrupt versions of one hour apart, each under its own hash", async () => {
    await store.put(KEY, NOT_JSON);
    await writeManifest(store, validManifest(MSG_TIME));
    await store.put(KEY, NOT_A_MANIFEST);

    await writeManifest(store, validManifest(MSG_TIME));

    expect((await keysUnder("manifests-corrupt/")).sort()).toEqual(
      [sha256(NOT_JSON), sha256(NOT_A_MANIFEST)]
        .map((h) => `manifests-corrupt/chat_type=C2C/dt=2026-11-20/hour=09.json.${h}`)
        .sort(),
    );
  });
});
