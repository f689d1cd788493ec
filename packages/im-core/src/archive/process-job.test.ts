import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  countingMetrics,
  elem,
  FakeCos,
  fakeClock,
  fakeFetch,
  makeHistoryFile,
  recordingLogger,
  storeArchivedHour,
} from "../../testing/index.ts";
import { ImTransportError } from "../errors.ts";
import { DEFAULT_MEDIA_CONFIG } from "../media/capture-hour.ts";
import { readMediaManifest } from "../media/manifest.ts";
import { createLocalStore, type LocalArchiveStore } from "../store/local-store.ts";
import { TABLE_PREFIX, tableKeyOf } from "../table/index-hour.ts";
import { METRIC } from "../util/metrics.ts";
import { readManifest } from "./manifest.ts";
import { type JobDeps, processJobMessage } from "./process-job.ts";

const HOUR = "2024030118";
const NOW = Date.parse("2024-03-01T13:30:00Z");
const IMAGE = "https://cos.ap-shanghai.myqcloud.com/b/0345-1400000000/0612-u1/a.png";
const body = (fields: Record<string, unknown>) =>
  JSON.stringify({ v: 1, chatType: "C2C", msgTime: HOUR, ...fields });
const context = { attempt: 1, messageId: "m-1" };

describe("processJobMessage dispatches by kind", () => {
  let dir: string;
  let store: LocalArchiveStore;
  let cos: FakeCos;
  let logger: ReturnType<typeof recordingLogger>;
  let metrics: ReturnType<typeof countingMetrics>;
  let getHistory: ReturnType<typeof vi.fn<JobDeps["getHistory"]>>;
  let deps: JobDeps;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "imvault-process-job-"));
    store = createLocalStore({ root: dir });
    const clock = fakeClock(NOW);
    cos = new FakeCos(clock);
    cos.add(IMAGE, { body: Buffer.alloc(900, 1), contentType: "image/png" });
    logger = recordingLogger();
    metrics = countingMetrics();
    getHistory = vi.fn<JobDeps["getHistory"]>(async () => {
      throw new ImTransportError("get_history must not be called here", { retryable: true });
    });
    const shared = { store, clock, logger, metrics, random: () => 0.5 };
    deps = {
      ...shared,
      getHistory,
      config: {
        settleHours: 6,
        maxAttemptsPerFile: 2,
        idleTimeoutMs: 1_000,
        retryBaseDelayMs: 1,
        downloadHosts: ["*.tim.qq.com"],
      },
      media: {
        ...shared,
        getCosSig: cos.getCosSig,
        fetch: cos.fetch,
        config: {
          ...DEFAULT_MEDIA_CONFIG,
          downloadHosts: ["*.myqcloud.com"],
          retryBaseDelayMs: 1,
          maxAttempts: 2,
        },
      },
    };
    await storeArchivedHour(store, "C2C", HOUR, [[elem.image(IMAGE)], [elem.text("hi")]]);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("runs a media job as media capture: the media manifest is written, get_history is never asked", async () => {
    const outcome = await processJobMessage(body({ kind: "media" }), deps, context);

    expect(outcome).toMatchObject({ kind: "done", job: { kind: "media" }, result: { outcome: "captured" } });
    expect((await readMediaManifest(store, "C2C", HOUR))?.items).toMatchObject([
      { rawUrl: IMAGE, status: "captured", size: 900 },
    ]);
    expect(getHistory).not.toHaveBeenCalled();
    expect(logger.lines.find((l) => l.message === "job")?.fields).toMatchObject({
      kind: "media",
      outcome: "captured",
      captured: 1,
      fetched: 1,
    });
  });

  it("runs a message without a kind as a history job, which never touches media", async () => {
    const outcome = await processJobMessage(body({}), deps, context);

    // The hour has its manifest already: skipped, without asking Tencent.
    expect(outcome).toMatchObject({ kind: "done", job: { kind: "history" }, result: { outcome: "skipped" } });
    expect(cos.signCalls).toEqual([]);
    expect(await readMediaManifest(store, "C2C", HOUR)).toBeUndefined();
  });

  it("writes an archived hour's table files right after its commit; a failure there leaves the job done", async () => {
    const hour = "2024030117";
    const url = "https://download.tim.qq.com/msg_history/1/c.gz";
    const file = makeHistoryFile("C2C", hour, 12, url, NOW + 3_600_000);
    const history = {
      ...deps,
      getHistory: async () => [file.history],
      fetch: fakeFetch(new Map([[url, () => new Response(file.gz)]])),
    };

    const outcome = await processJobMessage(body({ msgTime: hour }), history, context);

    expect(outcome).toMatchObject({ kind: "done", result: { outcome: "archived" } });
    const key = (await readManifest(store, "C2C", hour))!.files[0]!.key;
    expect((await store.head(tableKeyOf(key)))?.size).toBeGreaterThan(0);

    // The same hour again, on a store that refuses the table's key: archived, the failure counted.
    const hour2 = "2024030116";
    const file2 = makeHistoryFile("C2C", hour2, 3, url, NOW + 3_600_000);
    const refusing = {
      ...store,
      put: (key: string, ...rest: Parameters<typeof store.put> extends [unknown, ...infer R] ? R : never) =>
        key.startsWith(TABLE_PREFIX) ? Promise.reject(new Error("disk full")) : store.put(key, ...rest),
    };
    const failing = {
      ...history,
      store: refusing,
      getHistory: async () => [file2.history],
      fetch: fakeFetch(new Map([[url, () => new Response(file2.gz)]])),
    };

    const second = await processJobMessage(body({ msgTime: hour2 }), failing, context);

    expect(second).toMatchObject({ kind: "done", result: { outcome: "archived" } });
    expect(metrics.counts.get(METRIC.indexFailures)).toBe(1);
    expect(logger.lines.some((l) => l.level === "warn" && /indexing failed/.test(l.message))).toBe(true);
  });

  it("drops a message of an unknown kind with one error line, running nothing", async () => {
    const outcome = await processJobMessage(body({ kind: "thumbnails" }), deps, context);

    expect(outcome).toMatchObject({ kind: "dropped" });
    expect(logger.lines.map((l) => [l.level, l.message])).toEqual([
      ["error", "dropping malformed job message"],
    ]);
    expect([getHistory.mock.calls.length, cos.signCalls.length]).toEqual([0, 0]);
  });

  it("fails a media job whose capture fails, counting MediaFailures and writing no media manifest", async () => {
    const failing = {
      ...deps,
      media: {
        ...deps.media!,
        getCosSig: async () => {
          throw new ImTransportError("Tencent IM get_cos_sig: connection reset", { retryable: true });
        },
      },
    };

    await expect(processJobMessage(body({ kind: "media" }), failing, context)).rejects.toBeInstanceOf(
      ImTransportError,
    );
    expect(metrics.counts.get(METRIC.mediaFailures)).toBe(1);
    expect(metrics.counts.get(METRIC.archiveFailures)).toBeUndefined();
    expect(await readMediaManifest(store, "C2C", HOUR)).toBeUndefined();
    expect(logger.lines.find((l) => l.message === "job failed")?.fields).toMatchObject({
      kind: "media",
      retryable: true,
    });
  });

  it("ends a media job for an hour that is not archived as done, with a warning, so it is not retried", async () => {
    const outcome = await processJobMessage(body({ kind: "media", msgTime: "2024030117" }), deps, context);

    expect(outcome).toMatchObject({ kind: "done", result: { outcome: "no-manifest" } });
    expect(await readManifest(store, "C2C", "2024030117")).toBeUndefined();
    expect(logger.lines.some((l) => l.level === "warn" && /not archived/.test(l.message))).toBe(true);
  });

  it("fails a media job handed to a consumer built without media deps", async () => {
    const { media: _, ...historyOnly } = deps;

    await expect(processJobMessage(body({ kind: "media" }), historyOnly, context)).rejects.toThrow(
      /without media deps/,
    );
  });
});
