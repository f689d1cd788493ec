import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fakeClock, fakeFetch, makeHistoryFile } from "../../testing/history.ts";
import { createLocalStore } from "../store/local-store.ts";
import type { ArchiveStore } from "../store/port.ts";
import { hourEnd } from "../time/msgtime.ts";
import { silentLogger } from "../util/log.ts";
import { type ArchiveDeps, ArchiveFailedError, archiveHour } from "./archive-hour.ts";

/** `attempts` of an hour: the most download attempts one of its files took (0: nothing downloaded). */

const MSG_TIME = "2026112009";
const job = { v: 1, chatType: "C2C", msgTime: MSG_TIME } as const;
const NOW = hourEnd(MSG_TIME) + 2 * 3_600_000;
const url = (name: string) => `https://download.tim.qq.com/msg_history/1/${name}.gz?sign=s3cr3t`;

let dir: string;
let store: ArchiveStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "imvault-attempts-"));
  store = createLocalStore({ root: dir });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Three files a, b, c; `failures` says how many first attempts of each answer 502. */
function threeFileHour(failures: Record<string, number>): ArchiveDeps {
  const files = ["a", "b", "c"].map((n) => ({
    n,
    f: makeHistoryFile("C2C", MSG_TIME, 5, url(n), NOW + 3_600_000),
  }));
  const routes = new Map(
    files.map(({ n, f }) => [
      url(n),
      (attempt: number) =>
        attempt <= (failures[n] ?? 0) ? new Response("bad gateway", { status: 502 }) : new Response(f.gz),
    ]),
  );
  return {
    getHistory: async () => files.map(({ f }) => f.history),
    fetch: fakeFetch(routes),
    store,
    clock: fakeClock(NOW),
    logger: silentLogger,
    random: () => 0.5,
    config: {
      settleHours: 6,
      maxAttemptsPerFile: 3,
      downloadHosts: ["*.tim.qq.com"],
      idleTimeoutMs: 5_000,
      retryBaseDelayMs: 1,
    },
  };
}

describe("the attempts of an archived hour", () => {
  it("is 1 for a three-file hour whose every file downloaded at once (not one per file)", async () => {
    const result = await archiveHour(job, threeFileHour({}));

    expect(result).toMatchObject({ outcome: "archived", files: 3, attempts: 1 });
  });

  it("is the most any one file took: 3 when b took 3 and c took 2", async () => {
    const result = await archiveHour(job, threeFileHour({ b: 2, c: 1 }));

    expect(result).toMatchObject({ outcome: "archived", files: 3, attempts: 3 });
  });

  it("of a failed hour is carried by the ArchiveFailedError: every attempt of the failing file", async () => {
    const run = archiveHour(job, threeFileHour({ b: 3 }));

    await expect(run).rejects.toBeInstanceOf(ArchiveFailedError);
    await expect(run).rejects.toMatchObject({ details: { attempts: 3 } });
  });
});
