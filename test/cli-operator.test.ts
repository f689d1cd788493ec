/**
 * `imvault` as a careless operator (or an attacker) meets it: a corrupt manifest, a verify that finds
 * nothing to check, a window Tencent cannot serve. Each answer is a clear line and a distinct exit code.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { addHours, hourOf, manifestKey } from "@imvault/im-core";
import { type Simulator, startSimulator } from "@imvault/im-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, runImvault } from "./support/imvault-cli.ts";
import { clearOfHourTurn } from "./support/wait.ts";

const SDKAPPID = 1400012399;
const SECRET = "cli-operator-test-secret-key";
const CORRUPT = '{"version":1,"chatType":"C2C","msgTime":"20';

describe("imvault for the operator", () => {
  let sim: Simulator;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let h3: string;
  let corruptKey: string;

  beforeAll(async () => {
    await clearOfHourTurn(30_000);
    h3 = addHours(hourOf(Date.now()), -3);
    corruptKey = manifestKey("C2C", h3);
    sim = await startSimulator({
      sdkAppId: SDKAPPID,
      secretKey: SECRET,
      seed: "cli-operator",
      processingDelayMinutes: 0,
      volume: 50,
    });
    dataDir = await mkdtemp(join(tmpdir(), "imvault-operator-"));
    const path = join(dataDir, ...corruptKey.split("/"));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, CORRUPT);
    env = cleanEnv({
      IM_SDKAPPID: String(SDKAPPID),
      IM_SECRET_KEY: SECRET,
      IM_BASE_URL: sim.url,
      DATA_DIR: dataDir,
    });
  });

  afterAll(async () => {
    await sim?.close();
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  describe("a manifest that is not JSON", () => {
    it("is a `corrupt` hour of the status table, named by key under it", async () => {
      const run = await runImvault(["status", "--hours", "4"], env);

      expect(run.code, run.stderr).toBe(0);
      // Its Group hour, like every hour of the last four, ended within SETTLE_HOURS: pending.
      expect(run.stdout).toMatch(new RegExp(`${h3}\\s+corrupt\\s+pending`));
      expect(run.stdout).toMatch(
        /: 0 archived, 0 empty, 0 expired, 7 missing \(7 of them pending: ended less than 6 h ago, SETTLE_HOURS\), 1 corrupt$/m,
      );
      expect(run.stdout).toContain(`corrupt manifest: ${corruptKey}`);
    });

    it("fails imvault verify, which names it", async () => {
      const run = await runImvault(["verify"], env);

      expect(run.code).toBe(1);
      expect(run.stdout).toContain(
        `corrupt-manifest: ${corruptKey} (manifest ${corruptKey} is corrupt: not JSON)`,
      );
    });

    it("does not stop imvault archive: the hour is archived and the corrupt bytes kept aside", async () => {
      const run = await runImvault(["archive", "--from", h3, "--to", h3, "--chat-type", "C2C"], env);

      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`${h3}\\s+C2C\\s+archived`));
      expect(run.stderr).toContain(`corrupt manifest: archiving the hour again`);
      const manifest = JSON.parse(await readFile(join(dataDir, ...corruptKey.split("/")), "utf8"));
      expect(manifest.status).toBe("archived");
      const asideDir = join(dataDir, "manifests-corrupt", ...corruptKey.split("/").slice(1, -1));
      const aside = await readdir(asideDir);
      expect(aside).toHaveLength(1);
      expect(await readFile(join(asideDir, aside[0]!), "utf8")).toBe(CORRUPT);
      expect((await runImvault(["verify"], env)).code).toBe(0);
    });
  });

  describe("imvault verify that checks nothing", () => {
    it.each([
      [
        "an empty DATA_DIR",
        async () => {
          const empty = join(dataDir, "empty-data-dir");
          await mkdir(empty);
          return empty;
        },
        [],
      ],
      ["a DATA_DIR that does not exist", async () => join(dataDir, "no-such-dir"), []],
      ["a --prefix matching nothing", async () => dataDir, ["--prefix", "chat_type=Group/dt=1999-01-01/"]],
    ])("exits 4 saying nothing was checked, for %s", async (_what, dir, args) => {
      const run = await runImvault(["verify", ...args], cleanEnv({ DATA_DIR: await dir() }));

      expect(run.code).toBe(4);
      expect(run.stdout).toMatch(/^nothing checked: no manifest under manifests\/\S* in /m);
      expect(run.stdout).not.toMatch(/^ok/m);
    });
  });

  describe("imvault archive of a window Tencent cannot serve", () => {
    it("refuses a window wholly older than the retention (exit 2), writing nothing", async () => {
      const old = addHours(hourOf(Date.now()), -24 * 8);
      const asked = sim.requests.length;

      const run = await runImvault(["archive", "--from", addHours(old, -5), "--to", old], env);

      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/older than Tencent's retention \(7 days, IM_RETENTION_DAYS\).*--force/);
      expect(sim.requests.length).toBe(asked);
    });

    it("archives it anyway with --force: Tencent answers expired", async () => {
      const old = addHours(hourOf(Date.now()), -24 * 8);

      const run = await runImvault(
        ["archive", "--from", old, "--to", old, "--chat-type", "Group", "--force"],
        env,
      );

      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`${old}\\s+Group\\s+expired`));
    });

    it("refuses a window reaching an hour that has not ended (exit 2)", async () => {
      const current = hourOf(Date.now());

      const run = await runImvault(
        ["archive", "--from", addHours(current, -1), "--to", addHours(current, 2)],
        env,
      );

      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(
        new RegExp(`hour ${addHours(current, 2)} \\(Beijing\\) has not ended yet.*--force`),
      );
    });
  });
});
