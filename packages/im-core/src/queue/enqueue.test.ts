import { describe, expect, it } from "vitest";
import { fakeClock } from "../../testing/history.ts";
import { ImvaultError } from "../errors.ts";
import { enqueueJobs } from "./enqueue.ts";
import type { QueueJob } from "./job.ts";
import type { JobQueue, QueueEntry } from "./port.ts";

const jobs: QueueJob[] = Array.from({ length: 23 }, (_, i) => ({
  v: 1,
  kind: "history",
  chatType: i % 2 === 0 ? "C2C" : "Group",
  msgTime: `20240101${String(i).padStart(2, "0")}`,
}));

describe("enqueueJobs", () => {
  it("sends in batches of at most ten and counts every job", async () => {
    const batches: QueueEntry[][] = [];
    const queue: JobQueue = {
      sendBatch: async (entries) => {
        batches.push(entries);
        return { failed: [] };
      },
    };
    const result = await enqueueJobs(queue, jobs, { clock: fakeClock(0) });
    expect(batches.map((b) => b.length)).toEqual([10, 10, 3]);
    expect(result).toEqual({ enqueued: 23, failed: [] });
    expect(JSON.parse(batches[0]![0]!.body)).toEqual(jobs[0]);
  });

  it("re-sends entries a batch reports as failed until they go through", async () => {
    let refusedOnce = false;
    const sent: string[] = [];
    const queue: JobQueue = {
      sendBatch: async (entries) => {
        const failed = refusedOnce
          ? []
          : entries.slice(0, 2).map((e) => ({ id: e.id, senderFault: false, message: "throttled" }));
        refusedOnce = true;
        sent.push(...entries.map((e) => e.id));
        return { failed };
      },
    };
    const result = await enqueueJobs(queue, jobs.slice(0, 5), { clock: fakeClock(0) });
    expect(result).toEqual({ enqueued: 5, failed: [] });
    expect(sent).toHaveLength(7);
  });

  it("does not re-send sender faults and reports them", async () => {
    const queue: JobQueue = {
      sendBatch: async (entries) => ({
        failed: [{ id: entries[0]!.id, senderFault: true, message: "InvalidMessageContents: bad" }],
      }),
    };
    const result = await enqueueJobs(queue, jobs.slice(0, 3), { clock: fakeClock(0) });
    expect(result.enqueued).toBe(2);
    expect(result.failed).toEqual([{ id: "C2C-2024010100", message: "InvalidMessageContents: bad" }]);
  });

  it("gives up after maxRounds when the queue keeps failing, reporting every job", async () => {
    let calls = 0;
    const queue: JobQueue = {
      sendBatch: async () => {
        calls++;
        throw new Error("network down");
      },
    };
    const result = await enqueueJobs(queue, jobs.slice(0, 12), { clock: fakeClock(0), maxRounds: 3 });
    expect(calls).toBe(6);
    expect(result.enqueued).toBe(0);
    expect(result.failed).toHaveLength(12);
  });

  it("waits backoffMs, then twice as long, between rounds, and reports each entry's last refusal", async () => {
    const clock = fakeClock(0);
    const waits: number[] = [];
    const sleep = clock.sleep;
    clock.sleep = (ms, signal) => {
      waits.push(ms);
      return sleep(ms, signal);
    };
    let calls = 0;
    const queue: JobQueue = {
      sendBatch: async (entries) => {
        calls++;
        if (calls < 3) throw new Error(`throttled ${calls}`);
        return { failed: entries.map((e) => ({ id: e.id, senderFault: false, message: "still busy" })) };
      },
    };

    const result = await enqueueJobs(queue, jobs.slice(0, 2), { clock, maxRounds: 3, backoffMs: 50 });

    expect(waits).toEqual([50, 100]);
    expect(result.failed).toEqual([
      { id: "C2C-2024010100", message: "still busy" },
      { id: "Group-2024010101", message: "still busy" },
    ]);
  });

  it("stops at once when the queue throws an ImvaultError that is not retryable", async () => {
    let calls = 0;
    const queue: JobQueue = {
      sendBatch: async () => {
        calls++;
        throw new ImvaultError("queue does not exist");
      },
    };

    await expect(enqueueJobs(queue, jobs, { clock: fakeClock(0) })).rejects.toThrow("queue does not exist");
    expect(calls).toBe(1);
  });
});
