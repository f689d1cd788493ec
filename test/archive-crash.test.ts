/**
 * kill -9 in the middle of an upload loses nothing and leaves nothing: the killed run wrote no raw
 * file and no manifest, and the next run cleans up what it left and archives the hour byte-identical.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { addHours, hourOf, manifestKey, rawHourPrefix } from "@imvault/im-core";
import { type Simulator, startSimulator } from "@imvault/im-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, runImvault, startImvault } from "./support/imvault-cli.ts";
import { waitFor } from "./support/wait.ts";

const SDKAPPID = 1400054321;
const SECRET = "crash-test-secret-key-0000";

const filesUnder = async (dir: string): Promise<string[]> =>
  (await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []))
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name));

describe("a crash mid-upload (kill -9)", () => {
  let sim: Simulator;
  let dataDir: string;
  const msgTime = addHours(hourOf(Date.now()), -3);

  beforeAll(async () => {
    sim = await startSimulator({
      sdkAppId: SDKAPPID,
      secretKey: SECRET,
      seed: "crash",
      processingDelayMinutes: 0,
      volume: { bytes: 6_000_000 },
      gzipLevel: 1,
    });
    dataDir = await mkdtemp(join(tmpdir(), "imvault-crash-"));
  });
  afterAll(async () => {
    await sim?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("leaves no raw file or manifest, and the next run cleans up and completes", async () => {
    const env = cleanEnv({
      IM_SDKAPPID: String(SDKAPPID),
      IM_SECRET_KEY: SECRET,
      IM_BASE_URL: sim.url,
      DATA_DIR: dataDir,
    });
    // History only: the crash is about raw files and the manifest (media capture has its own tests).
    const args = ["archive", "--from", msgTime, "--to", msgTime, "--chat-type", "C2C", "--no-media"];
    // Arrange: the download trickles, so the archiver is certainly mid-upload when it is killed.
    sim.faults.next({ kind: "slow", bytesPerSecond: 64 * 1024, match: { target: "history", msgTime } });
    const victim = startImvault(args, env);
    const exited = new Promise((resolve) => victim.on("exit", resolve));
    const tempDir = join(dataDir, ".imvault", "tmp");
    const partial = await waitFor("a partly written temp file", 20_000, async () => {
      for (const path of await filesUnder(tempDir)) {
        if ((await readFile(path)).length > 0) return path;
      }
      return undefined;
    });

    // Act 1: kill -9, mid-upload.
    victim.kill("SIGKILL");
    await exited;

    // Assert 1: nothing of the hour is visible, only the dead writer's temp file remains.
    expect(await filesUnder(join(dataDir, rawHourPrefix("C2C", msgTime)))).toEqual([]);
    expect(await filesUnder(join(dataDir, "manifests"))).toEqual([]);
    expect(await filesUnder(tempDir)).toEqual([partial]);

    // Act 2: run again, without the fault.
    sim.faults.clear();
    const rerun = await runImvault(args, env);

    // Assert 2: archived byte-identical, and the leftover is gone.
    expect(rerun.code, rerun.stderr).toBe(0);
    const manifest = JSON.parse(await readFile(join(dataDir, manifestKey("C2C", msgTime)), "utf8")) as {
      status: string;
      files: { key: string; gzipMd5: string }[];
    };
    expect(manifest.status).toBe("archived");
    const served = await sim.hourFiles("C2C", msgTime);
    expect(manifest.files.map((f) => f.gzipMd5)).toEqual(served.map((f) => f.gzipMd5));
    for (const file of manifest.files) {
      const md5 = createHash("md5")
        .update(await readFile(join(dataDir, file.key)))
        .digest("hex");
      expect(md5).toBe(file.gzipMd5);
    }
    expect(await filesUnder(tempDir)).toEqual([]);
  });
});
