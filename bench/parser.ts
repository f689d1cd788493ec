/**
 * Parser benchmark: imvault's streaming history parser against Tencent's own line-by-line Python
 * example (get_history §3.11, second snippet), on the same generated ~100 MB (plain) GZip file.
 * Both sides open the .gz file, gunzip and JSON-parse every message; each is timed in its own process
 * around exactly that work, best of N rounds (the contenders take turns within each round so that
 * background load on a shared machine hits them alike). Temp files are removed on exit.
 *
 *   npm run bench:parser [-- --mb 100 --runs 3]
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createReadStream } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { mediaUrls, readGzipHistory } from "@imvault/im-core";
import { writeGzipHistory } from "./lib/history-gen.ts";

// Tencent's snippet verbatim inside `run`; only the timing, the file path and the final count are ours.
const PYTHON = `import gzip, json, sys, time

def run(path):
    with gzip.open(path, 'rb') as fp:
        cnt = -1
        for line in fp:
            line = line.strip().rstrip(b',')
            if line == b']}': break
            if cnt < 0:
                info = json.loads(line + b']}')
            else:
                msg = json.loads(line)
                #do sth with msg
            cnt += 1
    return cnt

for _ in range(int(sys.argv[2])):
    t0 = time.perf_counter()
    n = run(sys.argv[1])
    print(n, time.perf_counter() - t0, flush=True)
`;

const { values: args } = parseArgs({
  options: { mb: { type: "string", default: "100" }, runs: { type: "string", default: "3" } },
});
const targetBytes = Math.round(Number(args.mb) * 1e6);
const runs = Math.max(1, Number.parseInt(args.runs, 10));

interface Result {
  name: string;
  messages: number;
  seconds: number;
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

async function timed(name: string, once: () => Promise<number>): Promise<Result> {
  const t0 = performance.now();
  const messages = await once();
  return { name, messages, seconds: (performance.now() - t0) / 1000 };
}

function keepBest(best: Map<string, Result>, r: Result): void {
  const prev = best.get(r.name);
  if (!prev || r.seconds < prev.seconds) best.set(r.name, r);
}

async function imvault(path: string, withMedia: boolean): Promise<number> {
  let n = 0;
  let urls = 0;
  for await (const ev of readGzipHistory(createReadStream(path, { highWaterMark: 256 * 1024 }))) {
    if (ev.kind !== "message") continue;
    n++;
    if (withMedia) urls += mediaUrls(ev.message).length;
  }
  if (withMedia && urls === 0) throw new Error("no media URLs found");
  return n;
}

function pythonVersion(): string | undefined {
  try {
    return execFileSync("python3", ["--version"], { encoding: "utf8" }).trim();
  } catch {
    return undefined;
  }
}

/** One timed run of Tencent's example in a fresh python3 (the time is measured inside, like ours). */
function python(script: string, path: string): Result {
  const run = spawnSync("python3", [script, path, "1"], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`python3 failed: ${run.stderr.trim().split("\n").pop()}`);
  const [messages, seconds] = run.stdout.trim().split(" ").map(Number);
  return { name: "Tencent Python example", messages: messages!, seconds: seconds! };
}

const dir = await mkdtemp(join(tmpdir(), "imvault-bench-parser-"));
const cleanup = () => rm(dir, { recursive: true, force: true });
process.once("SIGINT", () => {
  void cleanup().finally(() => process.exit(130));
});

try {
  const gzPath = join(dir, "1400187352_C2C_2015120121.gz");
  const scriptPath = join(dir, "tencent_example.py");
  await writeFile(scriptPath, PYTHON);

  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
  console.log(
    `node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}), load ${load}, best of ${runs}`,
  );
  const g0 = performance.now();
  const gen = await writeGzipHistory(gzPath, { targetBytes, seed: 42 });
  const plainMB = gen.plainBytes / 1e6;
  console.log(
    `generated ${fmt(gen.messages)} C2C messages, ${fmt(gen.mediaUrls)} media URLs: ` +
      `${fmt(plainMB, 1)} MB plain, ${fmt(gen.gzipBytes / 1e6, 1)} MB gzip ` +
      `in ${fmt((performance.now() - g0) / 1000, 1)} s`,
  );

  const pyVersion = pythonVersion();
  console.log(pyVersion ?? "python3 not found on PATH: Tencent's example skipped");
  const best = new Map<string, Result>();
  for (let round = 0; round < runs; round++) {
    keepBest(best, await timed("imvault readGzipHistory", () => imvault(gzPath, false)));
    keepBest(best, await timed("imvault + mediaUrls", () => imvault(gzPath, true)));
    if (pyVersion) keepBest(best, python(scriptPath, gzPath));
  }
  const results = [...best.values()];

  for (const r of results) {
    if (r.messages !== gen.messages)
      throw new Error(`${r.name} counted ${r.messages}, expected ${gen.messages}`);
  }
  console.log("");
  console.log(
    `${"parser".padEnd(26)}${"best s".padStart(8)}${"messages/s".padStart(14)}${"MB/s".padStart(9)}`,
  );
  for (const r of results) {
    console.log(
      `${r.name.padEnd(26)}${fmt(r.seconds, 3).padStart(8)}${fmt(r.messages / r.seconds).padStart(14)}` +
        `${fmt(plainMB / r.seconds, 1).padStart(9)}`,
    );
  }
  const ours = results[0]!;
  const theirs = results.find((r) => r.name.startsWith("Tencent"));
  if (theirs) console.log(`\nimvault / Python: ${fmt(theirs.seconds / ours.seconds, 2)}x faster`);
} finally {
  await cleanup();
}
