/**
 * `imvault archive` and `imvault dev` on a DATA_DIR they cannot write, and `imvault status` on one it
 * cannot read: they end at once with exit code 1 and one line that names the path and the cause,
 * whether the store fails before it reads a byte of a big download or after a whole file was
 * downloaded, and however many hours the window holds. The
 * tests run as root, whom permissions do not stop: a regular file in the path (ENOTDIR) is the cause
 * they can produce; the other causes (EROFS, EACCES, ENOSPC) take the same path in the store's tests.
 */
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { addHours, hourOf } from "@imvault/im-core";
import { type Simulator, startSimulator } from "@imvault/im-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliRun, cleanEnv, runImvault } from "./support/imvault-cli.ts";
import { clearOfHourTurn } from "./support/wait.ts";

const SDKAPPID = 1400077777;
const SECRET = "store-unavailable-test-secret";
/** Seconds, not the minutes of five attempts with backoff, nor a hang. */
const PROMPT_MS = 15_000;

/** stderr without the header line every archive run prints first. */
function problemLines(run: CliRun): string[] {
  return run.stderr.split("\n").filter((line) => line.trim() !== "" && !line.startsWith("archiving "));
}

describe("imvault on a DATA_DIR it cannot write", () => {
  let sim: Simulator;
  let dir: string;
  let hour: string;
  let env: (dataDir: string) => NodeJS.ProcessEnv;

  beforeAll(async () => {
    await clearOfHourTurn(30_000);
    hour = addHours(hourOf(Date.now()), -3);
    sim = await startSimulator({
      sdkAppId: SDKAPPID,
      secretKey: SECRET,
      seed: "store-unavailable",
      processingDelayMinutes: 0,
      // A big hour: its download outruns a store that has stopped reading it.
      volume: (_chatType, msgTime) => (msgTime === hour ? 200_000 : 50),
    });
    dir = await mkdtemp(join(tmpdir(), "imvault-unwritable-"));
    await writeFile(join(dir, "a-file"), "not a directory");
    env = (dataDir) =>
      cleanEnv({
        IM_SDKAPPID: String(SDKAPPID),
        IM_SECRET_KEY: SECRET,
        IM_BASE_URL: sim.url,
        DATA_DIR: dataDir,
      });
  });

  afterAll(async () => {
    await sim?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("archive: DATA_DIR under a regular file fails at once, before reading the big download", async () => {
    const dataDir = join(dir, "a-file", "data");
    const started = Date.now();

    const run = await runImvault(
      ["archive", "--from", hour, "--to", hour, "--chat-type", "C2C"],
      env(dataDir),
    );

    expect(Date.now() - started).toBeLessThan(PROMPT_MS);
    expect(run.signal).toBeNull();
    expect(run.code, run.stderr).toBe(1);
    expect(problemLines(run)).toEqual([
      `imvault: the local store cannot write ${join(dataDir, ".imvault", "tmp")}: not a directory at ${join(dir, "a-file")} (ENOTDIR)`,
    ]);
    expect(run.stdout).toBe("");
  });

  it("archive: a window of many hours and both chat types still ends with that one line", async () => {
    const dataDir = join(dir, "a-file", "data");

    const run = await runImvault(
      ["archive", "--from", addHours(hour, -5), "--to", hour, "--concurrency", "4"],
      env(dataDir),
    );

    expect(run.code, run.stderr).toBe(1);
    expect(problemLines(run)).toHaveLength(1);
    expect(problemLines(run)[0]).toMatch(/^imvault: the local store cannot write .*\(ENOTDIR\)$/);
  });

  it("archive: a store that fails only after a whole file was downloaded names that path", async () => {
    // DATA_DIR is fine, but raw/ is a regular file: the temp file is written, the move into raw/ fails.
    const dataDir = await mkdtemp(join(dir, "data-"));
    await writeFile(join(dataDir, "raw"), "in the way");

    const run = await runImvault(
      ["archive", "--from", hour, "--to", hour, "--chat-type", "C2C"],
      env(dataDir),
    );

    expect(run.code, run.stderr).toBe(1);
    expect(problemLines(run)).toHaveLength(1);
    expect(problemLines(run)[0]).toMatch(
      new RegExp(
        `^imvault: the local store cannot write ${dataDir}/raw/chat_type=C2C/.*: not a directory at ${dataDir}/raw \\(ENOTDIR\\)$`,
      ),
    );
  });

  it("dev: refuses to start, with the same one line", async () => {
    const dataDir = join(dir, "a-file", "data");

    const run = await runImvault(["dev"], { ...env(dataDir), PORT: "0" }, PROMPT_MS);

    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stderr.trim()).toBe(
      `imvault: the local store cannot write ${join(dataDir, ".imvault", "tmp")}: not a directory at ${join(dir, "a-file")} (ENOTDIR)`,
    );
  });

  it("status: a DATA_DIR that is a file, or lies under one, is an error (exit 1), not an archive of missing hours", async () => {
    const file = join(dir, "a-file");

    const runs = [
      await runImvault(["status", "--hours", "2"], env(file)),
      await runImvault(["status"], env(join(file, "data"))),
    ];

    for (const run of runs) {
      expect(run.code, run.stdout + run.stderr).toBe(1);
      expect(run.stdout).toBe("");
    }
    expect(runs[0]!.stderr.trim()).toBe(
      `imvault: the local store cannot read DATA_DIR ${file}: it is not a directory`,
    );
    expect(runs[1]!.stderr.trim()).toBe(
      `imvault: the local store cannot read DATA_DIR ${join(file, "data")} (ENOTDIR)`,
    );
  });

  it("status: a DATA_DIR that does not exist is an empty archive, said on stderr, and stays absent", async () => {
    const dataDir = join(dir, "never-made");

    const run = await runImvault(["status", "--hours", "2"], env(dataDir));

    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr.trim()).toBe(
      `note: DATA_DIR ${dataDir} does not exist: nothing has been archived there`,
    );
    expect(run.stdout.trim().split("\n").at(-1)).toMatch(
      /: 0 archived, 0 empty, 0 expired, 4 missing \(4 of them pending: ended less than 6 h ago, SETTLE_HOURS\)$/,
    );
    await expect(stat(dataDir)).rejects.toMatchObject({ code: "ENOENT" });
  });
});
