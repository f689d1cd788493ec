import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { countingMetrics, fakeClock, recordingLogger } from "../../testing/index.ts";
import { coverage } from "../archive/coverage.ts";
import { manifestKey } from "../archive/layout.ts";
import { writeManifest } from "../archive/manifest.ts";
import { parseScheduleEvent, runSchedule } from "../archive/schedule.ts";
import { ValidationError } from "../errors.ts";
import type { ChatType } from "../im/types.ts";
import type { QueueEntry } from "../queue/port.ts";
import { createLocalStore } from "../store/local-store.ts";
import type { ArchiveStore } from "../store/port.ts";
import { METRIC } from "../util/metrics.ts";
import { mediaManifestKey } from "./layout.ts";
import { writeMediaManifest } from "./manifest.ts";
import { mediaWindow, planMedia } from "./plan.ts";

// 2024-03-05 12:30 Beijing: the last ended hour is 2024030511.
const NOW = Date.UTC(2024, 2, 5, 4, 30);

let dir: string;
let store: ArchiveStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "imvault-media-plan-"));
  store = createLocalStore({ root: dir });
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const archived = (chatType: ChatType, msgTime: string, status: "archived" | "empty" = "archived") =>
  writeManifest(store, {
    version: 1,
    chatType,
    msgTime,
    status,
    files: [],
    archivedAt: new Date(NOW).toISOString(),
  });
const captured = (chatType: ChatType, msgTime: string) =>
  writeMediaManifest(store, {
    version: 1,
    chatType,
    msgTime,
    items: [],
    capturedAt: new Date(NOW).toISOString(),
  });
const hours = (jobs: { chatType: string; msgTime: string }[]) =>
  jobs.map((j) => `${j.chatType}:${j.msgTime}`);

describe("mediaWindow", () => {
  it("spans IM_MEDIA_RETENTION_DAYS of ended hours, up to the last one", () => {
    expect(mediaWindow(NOW, 2)).toEqual({ from: "2024030312", to: "2024030511" });
    expect(mediaWindow(NOW, 7).from).toBe("2024022712");
  });
});

describe("planMedia", () => {
  it("plans the archived hours without a media manifest, oldest first, and flags those past the overdue age", async () => {
    await archived("C2C", "2024030511");
    await archived("Group", "2024030400", "empty"); // ended 35.5 h before NOW
    await archived("C2C", "2024030400");
    await captured("C2C", "2024030400");
    await archived("C2C", "2024030300"); // before the window

    const plan = await planMedia(store, mediaWindow(NOW, 2), NOW, { overdueAfterHours: 24 });

    expect(hours(plan.jobs)).toEqual(["Group:2024030400", "C2C:2024030511"]);
    expect(hours(plan.overdue)).toEqual(["Group:2024030400"]);
    expect(plan.captured).toBe(1);
    expect(plan.notArchived).toBe(48 * 2 - 3);
  });

  it("leaves out hours whose history manifest is known to be corrupt, and other chat types when asked", async () => {
    await archived("C2C", "2024030510");
    await archived("Group", "2024030510");

    const plan = await planMedia(store, { from: "2024030510", to: "2024030510" }, NOW, {
      overdueAfterHours: 24,
      corrupt: new Set([manifestKey("C2C", "2024030510")]),
    });
    const c2cOnly = await planMedia(store, { from: "2024030510", to: "2024030510" }, NOW, {
      overdueAfterHours: 24,
      chatTypes: ["C2C"],
    });

    expect(hours(plan.jobs)).toEqual(["Group:2024030510"]);
    expect(hours(c2cOnly.jobs)).toEqual(["C2C:2024030510"]);
  });
});

describe("runSchedule with media", () => {
  const run = async (event: unknown) => {
    const sent: QueueEntry[] = [];
    const metrics = countingMetrics();
    const summary = await runSchedule(
      {
        store,
        queue: {
          sendBatch: async (entries) => {
            sent.push(...entries);
            return { failed: [] };
          },
        },
        clock: fakeClock(NOW),
        logger: recordingLogger(),
        metrics,
        config: { lookbackHours: 2, settleHours: 1, mediaRetentionDays: 2 },
      },
      parseScheduleEvent(event),
    );
    return { summary, metrics, bodies: sent.map((e) => JSON.parse(e.body) as Record<string, string>), sent };
  };

  it("enqueues history jobs for hours without a manifest, then media jobs for archived hours without media", async () => {
    await archived("C2C", "2024030511");
    await archived("Group", "2024030400"); // in the media window only, and overdue

    const { summary, metrics, bodies, sent } = await run({});

    expect(bodies.map((b) => `${b.kind}:${b.chatType}:${b.msgTime}`)).toEqual([
      "history:C2C:2024030510",
      "history:Group:2024030510",
      "history:Group:2024030511",
      "media:Group:2024030400",
      "media:C2C:2024030511",
    ]);
    expect(new Set(sent.map((e) => e.id)).size).toBe(sent.length);
    expect(summary).toMatchObject({ planned: 3, mediaPlanned: 2, mediaOverdue: 1, enqueued: 5 });
    expect(metrics.counts.get(METRIC.mediaOverdue)).toBe(1);
    expect(metrics.counts.get(METRIC.jobsEnqueued)).toBe(5);
  });

  it('plans only media when the event says {"kind":"media"}, and only history for {"kind":"history"}', async () => {
    await archived("C2C", "2024030511");

    const media = await run({ kind: "media" });
    const history = await run({ kind: "history" });

    expect(media.bodies).toEqual([{ v: 1, kind: "media", chatType: "C2C", msgTime: "2024030511" }]);
    expect(media.summary).toMatchObject({ planned: 0, from: "2024030312", to: "2024030511" });
    expect(history.bodies.map((b) => b.kind)).toEqual(["history", "history", "history"]);
    expect(history.metrics.counts.get(METRIC.mediaOverdue)).toBeUndefined();
  });

  it("plans both kinds over a backfill's window", async () => {
    await archived("C2C", "2024030100");

    const { bodies } = await run({ from: "2024030100", to: "2024030100", chatType: "C2C" });

    expect(bodies).toEqual([{ v: 1, kind: "media", chatType: "C2C", msgTime: "2024030100" }]);
  });
});

describe("parseScheduleEvent", () => {
  it("reads the ordinary run, a kind, and a backfill", () => {
    expect(parseScheduleEvent({ source: "aws.scheduler" })).toEqual({});
    expect(parseScheduleEvent({ kind: "media" })).toEqual({ kinds: ["media"] });
    expect(parseScheduleEvent({ from: "2024030100", to: "2024030101", kind: "history" })).toEqual({
      backfill: { from: "2024030100", to: "2024030101", chatTypes: ["C2C", "Group"] },
      kinds: ["history"],
    });
  });

  it("refuses an unknown kind", () => {
    expect(() => parseScheduleEvent({ kind: "thumbnails" })).toThrow(ValidationError);
  });
});

describe("coverage with media", () => {
  it("shows each archived hour's media by status, pending without a media manifest, corrupt when unreadable", async () => {
    await archived("C2C", "2024030509");
    await writeMediaManifest(store, {
      version: 1,
      chatType: "C2C",
      msgTime: "2024030509",
      items: [
        { rawUrl: "https://a.myqcloud.com/x.png", status: "missing", tencentStatus: 2 },
        { rawUrl: "ftp://a.myqcloud.com/y.png", status: "refused", reason: "unsafe URL" },
      ],
      capturedAt: new Date(NOW).toISOString(),
    });
    await archived("Group", "2024030509", "empty");
    await archived("C2C", "2024030510");
    await store.put(mediaManifestKey("C2C", "2024030510"), "{not json");

    const { rows } = await coverage(store, { from: "2024030509", to: "2024030511" });
    const media = Object.fromEntries(rows.map((r) => [`${r.chatType}:${r.msgTime}`, r.media]));

    expect(media).toEqual({
      "C2C:2024030509": { captured: 0, missing: 1, refused: 1 },
      "Group:2024030509": "pending",
      "C2C:2024030510": "corrupt",
      "Group:2024030510": undefined,
      "C2C:2024030511": undefined,
      "Group:2024030511": undefined,
    });
  });
});
