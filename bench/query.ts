/**
 * Benchmark of the message table: generated hours (the simulator's generator) for both chat types
 * stored the way `imvault archive` stores them, then each figure beside its baseline in the same run:
 * indexing (`imvault index`, spawned) msg/s and peak RSS against gunzip-only; Parquet bytes against
 * raw GZip bytes; `imvault search --user` and `--text` (spawned, timed from the command's start; the
 * text a common word, then a word in no message: the search without its output) against
 * `zcat | grep -F` over the same raw files. Each spawned command's CPU time (user + system,
 * all its threads) is printed beside its wall time: on a shared machine, the wall time is also
 * what the other processes take. The floor of a search (the command's own start: node alone,
 * `imvault --version`, `imvault query "SELECT 1"`) is measured in the same run.
 *
 *   node bench/query.ts [--days 7] [--messages 3000000] [--keep (leave the data directory)]
 *                       [--reuse DIR (a directory --keep left, same --days and --messages: its raw
 *                        files and manifests are used again, its table removed first)]
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { addHours, CHAT_TYPES } from "@imvault/im-core";
import { bundleCli } from "../scripts/bundle-cli.ts";
import { archivedHistoryPath, writeArchivedHistory } from "./lib/archived-history.ts";

const { values } = parseArgs({
  options: {
    days: { type: "string", default: "7" },
    messages: { type: "string", default: "3000000" },
    keep: { type: "boolean", default: false },
    reuse: { type: "string" },
  },
});
const DAYS = Number(values.days);
const TOTAL = Number(values.messages);
const BIN = fileURLToPath(new URL("../packages/cli/bin/imvault.js", import.meta.url));
const FIRST = "2025010100";

const hours = Array.from({ length: DAYS * 24 }, (_, i) => addHours(FIRST, i));
const perFile = Math.max(1, Math.round(TOTAL / (hours.length * CHAT_TYPES.length)));
const dataDir = values.reuse ?? (await mkdtemp(join(tmpdir(), "imvault-bench-query-")));

function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const t = performance.now();
  // /usr/bin/time: the child's peak RSS in KiB and its CPU seconds (user, system), on stderr's last line.
  const r = spawnSync("/usr/bin/time", ["-f", "%M %U %S", cmd, ...args], {
    env,
    encoding: "utf8",
    maxBuffer: 1 << 30,
  });
  const seconds = (performance.now() - t) / 1000;
  const [rssKiB, user, system] = r.stderr.trim().split("\n").at(-1)!.split(" ").map(Number);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr.slice(-500)}`);
  return { seconds, cpu: user! + system!, rssMiB: rssKiB! / 1024, stdout: r.stdout };
}

/** Wall seconds, then CPU seconds: "1.234 s (cpu 0.456 s)". */
const secs = (r: { seconds: number; cpu: number }) => `${r.seconds.toFixed(3)} s (cpu ${r.cpu.toFixed(2)} s)`;
const load = () =>
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")} on ${availableParallelism()} cores`;

async function sizeOf(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) total += (await stat(join(e.parentPath, e.name))).size;
  }
  return total;
}

try {
  // The bin runs the bundle `npm ci` builds while it is current: built here from the sources as they are.
  await bundleCli();
  console.log(
    `${values.reuse === undefined ? "generating" : "reusing"} ${hours.length} hours x ${CHAT_TYPES.length} chat types, ${perFile} messages a file …`,
  );
  await rm(join(dataDir, "tables"), { recursive: true, force: true });
  const rawFiles: string[] = [];
  let seed = 1;
  for (const msgTime of hours) {
    for (const chatType of CHAT_TYPES) {
      if (values.reuse !== undefined) {
        rawFiles.push(archivedHistoryPath(dataDir, chatType, msgTime).path);
        continue;
      }
      const { path } = await writeArchivedHistory(dataDir, {
        chatType,
        msgTime,
        messages: perFile,
        seed: seed++,
      });
      rawFiles.push(path);
    }
  }
  const messages = perFile * rawFiles.length;
  const rawBytes = await sizeOf(join(dataDir, "raw"));
  const env = { ...process.env, DATA_DIR: dataDir, NO_COLOR: "1" };
  const last = hours.at(-1)!;

  const loadBefore = load();
  const gunzip = timed("sh", ["-c", `cat ${rawFiles.join(" ")} | gzip -dc | wc -c`]);
  const index = timed(BIN, ["index", "--from", FIRST, "--to", last], env);
  const tableBytes = await sizeOf(join(dataDir, "tables"));

  // Any account of the generated history: the first row's sender.
  const pick = timed(BIN, ["query", "SELECT from_account FROM messages LIMIT 1", "--format", "csv"], env);
  const user = pick.stdout.trim().split("\n")[1]!;
  const word = "天气";
  const absent = "台风";
  const search = (args: string[]) => timed(BIN, ["search", ...args, "--format", "ndjson"], env);
  const grep = (needle: string) =>
    timed("sh", ["-c", `zcat ${rawFiles.join(" ")} | grep -F -c -- '${needle}' || true`]);

  const rows: [string, string, string, string][] = [];
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
  rows.push([
    "index msg/s (peak RSS)",
    `${Math.round(messages / index.seconds)} msg/s (${index.rssMiB.toFixed(0)} MiB)`,
    `gunzip only: ${Math.round(messages / gunzip.seconds)} msg/s`,
    "≥ 200k msg/s, < 512 MiB",
  ]);
  rows.push([
    "index time",
    secs(index),
    `gunzip only: ${secs(gunzip)}`,
    `${Math.round(messages / index.cpu)} msg per CPU second`,
  ]);
  rows.push([
    "Parquet bytes",
    `${tableBytes}`,
    `raw GZip: ${rawBytes}`,
    `≤ 1.5x (is ${ratio(tableBytes, rawBytes)})`,
  ]);
  // The floor under any search: the command's own start, measured now.
  const nodeAlone = timed(process.execPath, ["-e", "0"]);
  const version = timed(BIN, ["--version"], env);
  const selectOne = timed(BIN, ["query", "SELECT 1", "--format", "csv"], env);
  rows.push([
    "start-up floor",
    `query "SELECT 1": ${secs(selectOne)}`,
    `node -e 0: ${nodeAlone.seconds.toFixed(3)} s; imvault --version: ${version.seconds.toFixed(3)} s`,
    "(under every search below)",
  ]);
  for (const [label, args, needle, target] of [
    ["search --user", ["--user", user], `"${user}"`, "≥ 100x faster, < 0.5 s"],
    ["search --text", ["--text", word], word, "≥ 5x faster, < 1 s"],
    // A word no generated message holds: the search's own cost, with nothing to print.
    ["search --text 台风", ["--text", absent], absent, "(the search without its output)"],
  ] as const) {
    const s = search([...args]);
    const g = grep(needle);
    const found = s.stdout.split("\n").filter((l) => l.length > 0).length;
    rows.push([
      `${label} (${found} rows)`,
      `${secs(s)} ${s.rssMiB.toFixed(0)} MiB`,
      `zcat | grep -F: ${secs(g)} (${g.stdout.trim()} lines)`,
      `${target} (is ${ratio(g.seconds, s.seconds)} faster)`,
    ]);
  }
  console.log(`\n${messages} messages in ${rawFiles.length} raw files, ${hours.length} hours, 2 chat types`);
  console.log(`before: ${loadBefore}; after: ${load()}`);
  for (const [what, figure, baseline, target] of rows) {
    console.log(`${what.padEnd(28)} ${figure.padEnd(40)} ${baseline.padEnd(58)} target ${target}`);
  }
} finally {
  if (values.keep || values.reuse !== undefined) console.log(`data directory kept: ${dataDir}`);
  else await rm(dataDir, { recursive: true, force: true });
}
