/**
 * Several `imvault archive` processes at once on one DATA_DIR share the app's Tencent rate limit
 * (files under DATA_DIR/.imvault), so together they stay within it and every hour is archived.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { addHours, hourOf } from "@imvault/im-core";
import { type Simulator, startSimulator } from "@imvault/im-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, runImvault } from "./support/imvault-cli.ts";
import { clearOfHourTurn } from "./support/wait.ts";

const SDKAPPID = 1400012346;
const SECRET = "cli-archive-concurrent-secret-key";
const PROCESSES = 3;
const HOURS_EACH = 10;
const RATE = 10;

describe("three imvault archive processes at once against Tencent's 10 calls/s", () => {
  let sim: Simulator;
  let dataDir: string;

  beforeAll(async () => {
    await clearOfHourTurn(60_000);
    sim = await startSimulator({
      sdkAppId: SDKAPPID,
      secretKey: SECRET,
      seed: "cli-archive-concurrent",
      processingDelayMinutes: 0,
      retentionHours: 72,
      volume: 20,
      rateLimitPerSecond: RATE,
    });
    dataDir = await mkdtemp(join(tmpdir(), "imvault-concurrent-"));
  });

  afterAll(async () => {
    await sim?.close();
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  it("archives every hour of all three windows: no hour fails on 60007, the get_history calls share 10/s", async () => {
    const env = cleanEnv({
      IM_SDKAPPID: String(SDKAPPID),
      IM_SECRET_KEY: SECRET,
      IM_BASE_URL: sim.url,
      IM_RATE_LIMIT: String(RATE),
      DATA_DIR: dataDir,
    });
    // Disjoint windows of hours past settling (6 h): 2 × HOURS_EACH get_history calls per process.
    const current = hourOf(Date.now());
    const windows = Array.from({ length: PROCESSES }, (_, p) => {
      const to = addHours(current, -8 - p * HOURS_EACH);
      return { from: addHours(to, 1 - HOURS_EACH), to };
    });

    const runs = await Promise.all(
      windows.map(({ from, to }) => runImvault(["archive", "--from", from, "--to", to], env, 55_000)),
    );

    const history = sim.requests.filter((r) => r.path.endsWith("/get_history"));
    const refused = history.filter((r) => r.code === 60007).length;
    for (const run of runs) {
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`${2 * HOURS_EACH} hour\\(s\\): ${2 * HOURS_EACH} archived`));
      expect(run.stdout).not.toMatch(/60007/);
    }
    // Each hour asked once; a refusal (a call that crossed into a full second on its way) is rare.
    expect(history.length - refused).toBe(PROCESSES * HOURS_EACH * 2);
    expect(refused, `${refused} of ${history.length} get_history calls refused`).toBeLessThanOrEqual(3);
  }, 60_000);
});
