import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeArchivedHour } from "../../testing/evidence.ts";
import { recordingLogger } from "../../testing/im.ts";
import { runSchedule, type ScheduleDeps } from "../archive/schedule.ts";
import { DEFAULTS } from "../schemas/limits.ts";
import { createLocalStore, type LocalArchiveStore } from "../store/local-store.ts";
import { addHours, hourOf } from "../time/msgtime.ts";
import { systemClock } from "../util/clock.ts";
import { METRIC, type MetricName } from "../util/metrics.ts";
import { listDigestKeys, readDigest } from "./digest-file.ts";
import { localSigner } from "./local-signer.ts";

/** The scheduler seals a digest on every run after enqueueing: what is new, or an empty one for continuity. */

let root: string;
let store: LocalArchiveStore;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "imvault-schedule-seal-"));
  store = createLocalStore({ root });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function scheduleDeps(overrides: Partial<ScheduleDeps> = {}) {
  const counts = new Map<MetricName, number>();
  const deps: ScheduleDeps = {
    store,
    queue: { sendBatch: async () => ({ failed: [] }) },
    clock: systemClock,
    logger: recordingLogger(),
    metrics: { count: (name, value = 1) => counts.set(name, (counts.get(name) ?? 0) + value) },
    config: { lookbackHours: 2, settleHours: 1, mediaRetentionDays: DEFAULTS.mediaRetentionDays },
    digestSigner: () => localSigner(root),
    ...overrides,
  };
  return { deps, counts };
}

describe("the hourly schedule seals a digest", () => {
  it("seals what was committed, then nothing more until the head is half an hour old", async () => {
    const hour = addHours(hourOf(Date.now()), -1);
    await writeArchivedHour(store, "C2C", hour);
    const { deps, counts } = scheduleDeps();

    const first = await runSchedule(deps);
    const second = await runSchedule(deps);

    expect(first.digest).toEqual({
      outcome: "sealed",
      key: "digests/000000000001.json",
      objects: 1,
      files: 1,
    });
    expect(second.digest).toEqual({ outcome: "nothing-new" });
    expect(counts.get(METRIC.digestsSealed)).toBe(1);
  });

  it("seals an empty digest when nothing was committed: a quiet hour is recorded too", async () => {
    const { deps } = scheduleDeps();

    const summary = await runSchedule(deps);

    expect(summary.digest).toMatchObject({ outcome: "sealed", objects: 0 });
    const keys = await listDigestKeys(store);
    expect(keys).toHaveLength(1);
    expect((await readDigest(store, keys[0]!.key))?.digest?.objects).toEqual([]);
  });

  it("a signer that cannot be made fails the digest, not the enqueueing: logged, no digest", async () => {
    const sent: string[] = [];
    const { deps } = scheduleDeps({
      queue: {
        sendBatch: async (entries) => {
          sent.push(...entries.map((e) => e.body));
          return { failed: [] };
        },
      },
      digestSigner: async () => {
        throw new Error("configuration: Resource.DigestKey is not linked to this function");
      },
    });

    const summary = await runSchedule(deps);

    expect(summary.enqueued).toBeGreaterThan(0);
    expect(sent).toHaveLength(summary.enqueued);
    expect(summary.digest).toEqual({
      outcome: "failed",
      error: "configuration: Resource.DigestKey is not linked to this function",
    });
    expect(await listDigestKeys(store)).toEqual([]);
    const logged = (deps.logger as ReturnType<typeof recordingLogger>).lines;
    expect(logged.some((l) => l.level === "error" && l.message.includes("digest could not be sealed"))).toBe(
      true,
    );
  });
});
