import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { addHours, hourOf, hourParts } from "@imvault/im-core";
import { type Simulator, startSimulator } from "@imvault/im-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, runImvault } from "./support/imvault-cli.ts";
import { clearOfHourTurn } from "./support/wait.ts";

const SDKAPPID = 1400012345;
const SECRET = "cli-archive-test-secret-key";
const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");

interface ManifestFile {
  key: string;
  gzipSize: number;
  gzipMd5: string;
  fileSize: number;
  fileMd5: string;
  messageCount: number;
}

describe("imvault archive / status / verify against the simulator", () => {
  let sim: Simulator;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  // Hours relative to the current Beijing hour, far enough from every boundary that the minute of the
  // run cannot change their outcome: -8/-7 are past settling (6 h) and within retention (24 h).
  let current: string;
  let h8: string;
  let h7: string;
  let h30: string;

  const manifestOf = async (chatType: string, msgTime: string) => {
    const { dt, hour } = hourParts(msgTime);
    return JSON.parse(
      await readFile(
        join(dataDir, "manifests", `chat_type=${chatType}`, `dt=${dt}`, `hour=${hour}.json`),
        "utf8",
      ),
    ) as { status: string; files: ManifestFile[] };
  };

  beforeAll(async () => {
    // The whole file takes seconds: start clear of an hour's turn, so every hour below keeps its outcome.
    await clearOfHourTurn(30_000);
    current = hourOf(Date.now());
    h8 = addHours(current, -8);
    h7 = addHours(current, -7);
    h30 = addHours(current, -30);
    sim = await startSimulator({
      sdkAppId: SDKAPPID,
      secretKey: SECRET,
      seed: "cli-archive",
      processingDelayMinutes: 0,
      retentionHours: 24,
      volume: 300,
      emptyHours: [`Group:${h8}`],
    });
    dataDir = await mkdtemp(join(tmpdir(), "imvault-cli-"));
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

  it("archives a window, exits 0 and prints a per-hour table; files on disk match their manifests", async () => {
    const run = await runImvault(["archive", "--from", h8, "--to", h7], env);

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`${h8}\\s+C2C\\s+archived`));
    expect(run.stdout).toMatch(new RegExp(`${h8}\\s+Group\\s+empty`));
    expect(run.stdout).toMatch(/4 hour\(s\): 3 archived, 1 empty/);
    for (const [chatType, msgTime] of [
      ["C2C", h8],
      ["C2C", h7],
      ["Group", h7],
    ] as const) {
      const manifest = await manifestOf(chatType, msgTime);
      expect(manifest.status).toBe("archived");
      expect(manifest.files.length).toBeGreaterThan(0);
      for (const file of manifest.files) {
        const gz = await readFile(join(dataDir, ...file.key.split("/")));
        const plain = gunzipSync(gz);
        expect([gz.length, md5(gz), plain.length, md5(plain)]).toEqual([
          file.gzipSize,
          file.gzipMd5,
          file.fileSize,
          file.fileMd5,
        ]);
      }
    }
    expect((await manifestOf("Group", h8)).status).toBe("empty");
  });

  it("skips hours that already have a manifest on a second run, without asking Tencent again", async () => {
    const before = sim.requests.length;

    const run = await runImvault(["archive", "--from", h8, "--to", h7], env);

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/4 hour\(s\): 4 skipped/);
    expect(sim.requests.length).toBe(before);
  });

  it("records an hour past Tencent's retention as expired and still exits 0", async () => {
    const run = await runImvault(["archive", "--from", h30, "--to", h30, "--chat-type", "C2C"], env);

    expect(run.code, run.stderr).toBe(0);
    expect((await manifestOf("C2C", h30)).status).toBe("expired");
  });

  it("exits 3 when an hour is still pending (not produced yet), writing no manifest", async () => {
    const run = await runImvault(
      // The hour in progress: refused without --force (it cannot have files yet), answered pending with it.
      ["archive", "--from", current, "--to", current, "--chat-type", "Group", "--force"],
      env,
    );

    expect(run.code, run.stderr).toBe(3);
    expect(run.stdout).toMatch(/1 hour\(s\): 1 pending/);
    await expect(manifestOf("Group", current)).rejects.toThrow(/ENOENT/);
  });

  it("exits 1 naming Tencent's code when the secret key is wrong, and never prints a key or UserSig", async () => {
    const wrong = "definitely-not-the-right-key";
    const run = await runImvault(
      ["archive", "--from", addHours(current, -5), "--to", addHours(current, -5), "--chat-type", "C2C"],
      { ...env, IM_SECRET_KEY: wrong },
    );

    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/failed/);
    expect(run.stdout + run.stderr).toMatch(/code 700\d\d/);
    expect(run.stdout + run.stderr).not.toContain(wrong);
    expect(run.stdout + run.stderr).not.toMatch(/usersig=/i);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it("exits 2 with one line naming IM_SDKAPPID and IM_SECRET_KEY when no credentials are set", async () => {
    const run = await runImvault(["archive"], cleanEnv({ DATA_DIR: dataDir }));

    expect(run.code).toBe(2);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(/IM_SDKAPPID.*IM_SECRET_KEY/);
  });

  it("reports coverage as JSON: archived, empty, expired and missing hours with totals", async () => {
    const run = await runImvault(["status", "--hours", "30", "--json"], env);

    expect(run.code, run.stderr).toBe(0);
    const status = JSON.parse(run.stdout) as {
      rows: { msgTime: string; chatType: string; status: string }[];
      totals: Record<string, number>;
    };
    const of = (chatType: string, msgTime: string) =>
      status.rows.find((r) => r.chatType === chatType && r.msgTime === msgTime)?.status;
    expect([of("C2C", h8), of("Group", h8), of("C2C", h30), of("Group", h30)]).toEqual([
      "archived",
      "empty",
      "expired",
      "missing",
    ]);
    expect(status.totals).toEqual({ archived: 3, empty: 1, expired: 1, missing: 60 - 5 });
  });

  it("prints the status as a table with totals", async () => {
    const run = await runImvault(["status", "--hours", "8"], env);

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`${h7}\\s+archived`));
    // The 12 missing are the last six hours': within SETTLE_HOURS (6 by default), so pending.
    expect(run.stdout.trim().split("\n").at(-1)).toMatch(
      /: 3 archived, 1 empty, 0 expired, 12 missing \(12 of them pending: ended less than 6 h ago, SETTLE_HOURS\)$/,
    );
  });

  it("verifies every stored file, then fails naming a corrupted and a missing file", async () => {
    const ok = await runImvault(["verify"], env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/ok: 5 manifest\(s\), 3 file\(s\)/);

    const corrupted = (await manifestOf("C2C", h8)).files[0]!.key;
    const removed = (await manifestOf("Group", h7)).files[0]!.key;
    const path = join(dataDir, ...corrupted.split("/"));
    const bytes = await readFile(path);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    await writeFile(path, bytes);
    await unlink(join(dataDir, ...removed.split("/")));

    const bad = await runImvault(["verify"], env);

    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(`mismatch: ${corrupted}`);
    expect(bad.stdout).toContain(`missing: ${removed}`);
    expect(bad.stdout).toMatch(/FAILED: .*2 problem\(s\)/);
  });
});
