/**
 * Two archivers on the same hour at once, as when SQS delivers a job twice, the scheduler enqueues an
 * hour whose earlier job still runs, or two `imvault archive` runs overlap. A downloads from a
 * simulator with random download faults. B downloads, in odd races, from a twin simulator (the same
 * seed: the same files, byte for byte) whose every download is corrupt, so it keeps failing while A
 * commits; in even races from the same simulator as A, so both may store the same files. After each
 * race the archive must verify: every file the manifest names is there, unchanged.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ArchiveStore } from "@imvault/im-core";
import {
  type ArchiveDeps,
  addHours,
  archiveHour,
  createLocalStore,
  getHistory,
  hourOf,
  ImClient,
  readManifest,
  silentLogger,
  systemClock,
  verifyArchive,
} from "@imvault/im-core";
import { createS3Store } from "@imvault/im-core/s3";
import { type Simulator, startSimulator, TEST_SDKAPPID, TEST_SECRET_KEY } from "@imvault/im-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalAws, startLocalAws, TEST_CREDENTIALS, TEST_REGION } from "./support/fauxqs.ts";
import { cleanEnv, runImvault } from "./support/imvault-cli.ts";
import { clearOfHourTurn } from "./support/wait.ts";

const TRIALS = 20;
const CLI_TRIALS = 2;

await clearOfHourTurn(60_000);
const HOUR = addHours(hourOf(Date.now()), -3);
const job = { v: 1, chatType: "C2C", msgTime: HOUR } as const;

interface TrialResult {
  trial: number;
  bSimulator: "corrupt twin" | "same";
  a: string;
  b: string;
  problems: string[];
}

describe.each(["local", "s3"] as const)("two archivers racing on one hour, %s store", (kind) => {
  let good: Simulator;
  let bad: Simulator;
  let aws: LocalAws | undefined;
  const dirs: string[] = [];

  beforeAll(async () => {
    const options = {
      sdkAppId: TEST_SDKAPPID,
      secretKey: TEST_SECRET_KEY,
      seed: `race-${kind}`,
      processingDelayMinutes: 0,
      // Several files per hour: more moments for the two to interleave.
      volume: 1200,
      maxFileBytes: 60_000,
      rateLimitPerSecond: 10_000,
    };
    good = await startSimulator(options);
    bad = await startSimulator(options);
    good.faults.random({ corrupt: 0.15, truncate: 0.1 }, `race-${kind}`);
    bad.faults.next({ kind: "corrupt", count: Number.POSITIVE_INFINITY, match: { target: "history" } });
    if (kind === "s3") aws = await startLocalAws();
  });

  afterAll(async () => {
    await good?.close();
    await bad?.close();
    await aws?.stop();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  async function freshStore(): Promise<{ store: ArchiveStore; env: Record<string, string> }> {
    if (aws !== undefined) {
      const bucket = await aws.createBucket();
      return {
        store: createS3Store({ client: aws.s3, bucket }),
        env: {
          ARCHIVE_BUCKET: bucket,
          AWS_ENDPOINT_URL_S3: aws.endpoint,
          AWS_REGION: TEST_REGION,
          AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
        },
      };
    }
    const dir = await mkdtemp(join(tmpdir(), "imvault-race-"));
    dirs.push(dir);
    return { store: createLocalStore({ root: dir }), env: { DATA_DIR: dir } };
  }

  function archiver(sim: Simulator, store: ArchiveStore, maxAttemptsPerFile: number): ArchiveDeps {
    const client = new ImClient({
      sdkAppId: TEST_SDKAPPID,
      identifier: "administrator",
      secretKey: TEST_SECRET_KEY,
      baseUrl: sim.url,
      ratePerSecond: 10_000,
    });
    return {
      getHistory: (chatType, msgTime, signal) =>
        getHistory(client, chatType, msgTime, signal === undefined ? {} : { signal }),
      store,
      clock: systemClock,
      logger: silentLogger,
      config: {
        settleHours: 6,
        maxAttemptsPerFile,
        downloadHosts: [sim.url],
        idleTimeoutMs: 2_000,
        retryBaseDelayMs: 20,
      },
    };
  }

  /** What is wrong with the archive of HOUR: verify's problems, or files other than those served. */
  async function problemsOf(store: ArchiveStore): Promise<string[]> {
    const report = await verifyArchive(store);
    const problems = report.problems.map((p) => `${p.problem} ${p.key}: ${p.detail}`);
    const manifest = await readManifest(store, "C2C", HOUR);
    const served = (await good.hourFiles("C2C", HOUR)).map((f) => f.gzipMd5);
    if (manifest?.status !== "archived") problems.push(`no archived manifest (${manifest?.status})`);
    else if (JSON.stringify(manifest.files.map((f) => f.gzipMd5)) !== JSON.stringify(served)) {
      problems.push("the manifest names other files than the simulator serves");
    }
    return problems;
  }

  it(`${TRIALS} races in process, each verified afterwards`, async () => {
    const served = await good.hourFiles("C2C", HOUR);
    expect(served.length).toBeGreaterThan(1);
    expect((await bad.hourFiles("C2C", HOUR)).map((f) => f.gzipMd5)).toEqual(served.map((f) => f.gzipMd5));
    const results: TrialResult[] = [];

    for (let trial = 1; trial <= TRIALS; trial++) {
      const { store } = await freshStore();
      const bSim = trial % 2 === 1 ? bad : good;
      const [a, b] = await Promise.allSettled([
        archiveHour(job, archiver(good, store, 6)),
        archiveHour(job, archiver(bSim, store, 5)),
      ]);
      // Whatever the race left, one more run converges (it is skipped when the hour is committed).
      await archiveHour(job, archiver(good, store, 8));
      const outcome = (r: PromiseSettledResult<{ outcome: string }>) =>
        r.status === "fulfilled" ? r.value.outcome : (r.reason as Error).name;
      results.push({
        trial,
        bSimulator: bSim === bad ? "corrupt twin" : "same",
        a: outcome(a),
        b: outcome(b),
        problems: await problemsOf(store),
      });
    }

    const failed = results.filter((r) => r.problems.length > 0);
    const summary = `${failed.length} of ${TRIALS} races left problems: ${JSON.stringify(failed, null, 1)}`;
    expect(failed, summary).toEqual([]);
    // The archiver on the corrupt twin can only fail, or find the hour committed by the other.
    const twin = results.filter((r) => r.bSimulator === "corrupt twin");
    expect(twin.map((r) => r.b).filter((b) => b !== "skipped" && b !== "ArchiveFailedError")).toEqual([]);
  }, 40_000);

  it(`${CLI_TRIALS} races of two imvault archive processes, each checked with imvault verify`, async () => {
    for (let trial = 1; trial <= CLI_TRIALS; trial++) {
      const { store, env: storeEnv } = await freshStore();
      const envFor = (sim: Simulator) =>
        cleanEnv({
          IM_SDKAPPID: String(TEST_SDKAPPID),
          IM_SECRET_KEY: TEST_SECRET_KEY,
          IM_BASE_URL: sim.url,
          RETRY_BASE_DELAY_MS: "20",
          ...storeEnv,
        });
      // History only: the race is about raw files and manifests (media capture has its own tests).
      const args = ["archive", "--from", HOUR, "--to", HOUR, "--chat-type", "C2C", "--no-media"];

      const [a, b] = await Promise.all([runImvault(args, envFor(good)), runImvault(args, envFor(bad))]);
      const rerun = await runImvault(args, envFor(good));
      const verify = await runImvault(["verify"], envFor(good));

      expect(a.code === 0 || rerun.code === 0, `${a.stderr}\n${rerun.stderr}`).toBe(true);
      expect(b.signal).toBeNull();
      expect(verify.code, `trial ${trial}: ${verify.stdout}${verify.stderr}`).toBe(0);
      expect(await problemsOf(store)).toEqual([]);
    }
  }, 30_000);
});
