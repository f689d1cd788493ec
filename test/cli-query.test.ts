import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { addHours, hourOf } from "@imvault/im-core";
import { type Simulator, startSimulator } from "@imvault/im-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, runImvault } from "./support/imvault-cli.ts";
import { clearOfHourTurn } from "./support/wait.ts";

/**
 * imvault archive against the simulator, then index / query / search: every count the table gives
 * is checked against the raw GZip files parsed here with zlib and JSON, not by the indexer's code.
 */

interface RawMessage {
  key: string;
  msgTime: string;
  line: number;
  raw: string;
  msg: Record<string, unknown> & { MsgBody?: { MsgType?: string; MsgContent?: { Text?: string } }[] };
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.push(join(e.parentPath, e.name));
  }
  return out.sort();
}

/** Every message of every raw file under dataDir, straight from the bytes. */
async function rawMessages(dataDir: string): Promise<RawMessage[]> {
  const out: RawMessage[] = [];
  for (const path of await walk(join(dataDir, "raw"))) {
    const key = path.slice(dataDir.length + 1);
    const msgTime = /dt=(\d{4})-(\d{2})-(\d{2})\/hour=(\d{2})/.exec(key)!.slice(1).join("");
    const lines = gunzipSync(await readFile(path))
      .toString("utf8")
      .split("\n");
    lines.forEach((text, i) => {
      const t = text.trim().replace(/,$/, "");
      if (i === 0 || !t.startsWith("{")) return;
      out.push({ key, msgTime, line: i + 1, raw: t, msg: JSON.parse(t) });
    });
  }
  return out;
}

const textOf = (m: RawMessage) =>
  (m.msg.MsgBody ?? [])
    .filter((e) => e.MsgType === "TIMTextElem")
    .map((e) => e.MsgContent?.Text)
    .join("\n");

describe("imvault index / query / search against the simulator's archive", () => {
  let sim: Simulator;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let h8: string;
  let h7: string;
  let messages: RawMessage[];

  const ndjson = (stdout: string) =>
    stdout
      .split("\n")
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  beforeAll(async () => {
    await clearOfHourTurn(60_000);
    const current = hourOf(Date.now());
    h8 = addHours(current, -8);
    h7 = addHours(current, -7);
    sim = await startSimulator({
      sdkAppId: 1400012399,
      secretKey: "cli-query-test-secret-key",
      seed: "cli-query",
      processingDelayMinutes: 0,
      retentionHours: 24,
      volume: 200,
    });
    dataDir = await mkdtemp(join(tmpdir(), "imvault-query-"));
    env = cleanEnv({
      IM_SDKAPPID: "1400012399",
      IM_SECRET_KEY: "cli-query-test-secret-key",
      IM_BASE_URL: sim.url,
      DATA_DIR: dataDir,
    });
    const archive = await runImvault(["archive", "--from", h8, "--to", h7], env, 60_000);
    expect(archive.code, archive.stderr).toBe(0);
    messages = await rawMessages(dataDir);
  }, 120_000);

  afterAll(async () => {
    await sim?.close();
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  it("indexes every archived hour: one Parquet per raw file, as many rows as the raw files hold", async () => {
    const run = await runImvault(["index", "--from", h8, "--to", h7], env, 60_000);

    expect(run.code, run.stderr).toBe(0);
    const raw = await walk(join(dataDir, "raw"));
    const tables = await walk(join(dataDir, "tables", "messages"));
    expect(tables.map((p) => p.slice(join(dataDir, "tables", "messages").length))).toEqual(
      raw.map((p) => `${p.slice(join(dataDir, "raw").length)}.parquet`),
    );
    const count = await runImvault(["query", "SELECT count(*) AS n FROM messages", "--format", "json"], env);
    expect(count.code, count.stderr).toBe(0);
    expect(JSON.parse(count.stdout)).toEqual([{ n: messages.length }]);
    expect(messages.length).toBeGreaterThan(100);
  }, 90_000);

  it("search --user finds exactly the messages the user sent or received, raw text as in the file", async () => {
    const c2c = messages.filter((m) => m.key.includes("chat_type=C2C"));
    const user = c2c[0]!.msg.From_Account as string;
    const expected = messages.filter((m) => m.msg.From_Account === user || m.msg.To_Account === user);

    const run = await runImvault(["search", "--user", user, "--format", "ndjson"], env);

    expect(run.code, run.stderr).toBe(0);
    const rows = ndjson(run.stdout);
    expect(rows.map((r) => `${r.source_key}:${r.line}`).sort()).toEqual(
      expected.map((m) => `${m.key}:${m.line}`).sort(),
    );
    const first = rows.find((r) => r.source_key === expected[0]!.key && r.line === expected[0]!.line)!;
    expect(first.raw).toBe(expected[0]!.raw);
  }, 60_000);

  it("search --group, --text (Chinese) and a one-hour window match what the raw files hold", async () => {
    const group = messages.find((m) => typeof m.msg.GroupId === "string")!.msg.GroupId as string;
    const word = "天气";
    const cases: [string[], RawMessage[]][] = [
      [["--group", group], messages.filter((m) => m.msg.GroupId === group)],
      [["--text", word], messages.filter((m) => textOf(m).includes(word))],
      [["--from", h7, "--to", h7], messages.filter((m) => m.msgTime === h7)],
      [
        ["--text", word, "--from", h8, "--to", h8],
        messages.filter((m) => m.msgTime === h8 && textOf(m).includes(word)),
      ],
    ];
    for (const [args, expected] of cases) {
      const run = await runImvault(["search", ...args, "--format", "ndjson"], env);
      expect(run.code, run.stderr).toBe(0);
      expect(ndjson(run.stdout).length, args.join(" ")).toBe(expected.length);
    }
    expect(cases[1]![1].length).toBeGreaterThan(0);
  }, 90_000);

  it("index --rebuild writes every file again and the table holds the same rows", async () => {
    const sql =
      "SELECT source_key, line, md5(raw) AS h, conversation, text FROM messages ORDER BY source_key, line";
    const before = await runImvault(["query", sql, "--format", "csv"], env);
    const again = await runImvault(["index", "--from", h8, "--to", h7], env, 60_000);
    const rebuild = await runImvault(["index", "--from", h8, "--to", h7, "--rebuild"], env, 60_000);
    const after = await runImvault(["query", sql, "--format", "csv"], env);

    expect(again.stdout).toMatch(/current/);
    expect(again.stdout).not.toMatch(/\bindexed\b/);
    expect(rebuild.code, rebuild.stderr).toBe(0);
    expect(rebuild.stdout).toMatch(/indexed/);
    expect(after.stdout).toBe(before.stdout);
    expect(after.stdout.split("\n").length).toBeGreaterThan(messages.length);
  }, 120_000);

  it("refuses a write, with one clear line and exit 2, and the table is unchanged", async () => {
    for (const sql of [
      "DELETE FROM messages",
      "COPY (SELECT 1) TO 'x.csv'",
      "CREATE TABLE t AS SELECT 1",
      "SELECT * FROM read_csv('/etc/passwd')",
    ]) {
      const run = await runImvault(["query", sql], env);
      expect(run.code, sql).toBe(2);
      expect(run.stderr.trim().split("\n"), sql).toHaveLength(1);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
    const count = await runImvault(
      ["query", "SELECT count(*) AS n FROM messages", "--format", "ndjson"],
      env,
    );
    expect(ndjson(count.stdout)).toEqual([{ n: messages.length }]);
  }, 60_000);

  it("answers an unknown column and a malformed window with one error line and exit 2", async () => {
    const column = await runImvault(["query", "SELECT nope FROM messages"], env);
    const window = await runImvault(["search", "--from", "2024133100"], env);

    expect(column.code).toBe(2);
    expect(column.stderr).toMatch(/nope/);
    expect(window.code).toBe(2);
    expect(window.stderr).toMatch(/--from/);
  }, 30_000);
});
