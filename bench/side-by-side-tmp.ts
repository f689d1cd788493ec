// Temporary driver (not committed): the verifier child of bench/verify.ts from two trees, interleaved.
import { spawnSync } from "node:child_process";
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { writeGzipHistory } from "./lib/history-gen.ts";

const [mb, runs] = [Number(process.argv[2] ?? 100), Number(process.argv[3] ?? 8)];
const trees = { before: "/tmp/evsha-before", after: "/work/wt/evsha" };
const dir = mkdtempSync(join(tmpdir(), "evsha-side-"));
try {
  const gz = join(dir, "h.gz");
  const plain = join(dir, "h.json");
  const made = await writeGzipHistory(gz, { targetBytes: mb * 1024 * 1024 });
  await pipeline(createReadStream(gz), createGunzip(), createWriteStream(plain));
  const figures = {
    gzipSize: made.gzipBytes,
    gzipMd5: made.gzipMd5,
    fileSize: made.plainBytes,
    fileMd5: made.plainMd5,
    messageCount: made.messages,
  };
  console.log(`${(made.plainBytes / 2 ** 20).toFixed(0)} MiB plain, ${(made.gzipBytes / 2 ** 20).toFixed(1)} MiB gzip; ${runs} runs each, interleaved`);
  const out: Record<string, { ms: number; cpuMs: number; maxRssMiB: number }[]> = { before: [], after: [] };
  for (let i = 0; i < runs; i++) {
    for (const [name, tree] of Object.entries(trees)) {
      const r = spawnSync(process.execPath, [join(tree, "bench/verify.ts"), "--child", "verifier", gz, plain, JSON.stringify(figures)], { encoding: "utf8", cwd: tree });
      if (r.status !== 0) throw new Error(r.stderr);
      out[name]!.push(JSON.parse(r.stdout));
    }
  }
  for (const [name, samples] of Object.entries(out)) {
    const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
    const cpu = samples.map((s) => s.cpuMs).sort((a, b) => a - b);
    const med = (xs: number[]) => xs[Math.floor(xs.length / 2)]!;
    const rate = (t: number) => (made.plainBytes / 2 ** 20 / (t / 1000)).toFixed(0);
    console.log(
      `${name.padEnd(7)} wall min ${ms[0]!.toFixed(0)} / median ${med(ms).toFixed(0)} ms (plain ${rate(ms[0]!)} / ${rate(med(ms))} MB/s, gzip ${(made.gzipBytes / 2 ** 20 / (ms[0]! / 1000)).toFixed(0)} MB/s at best)  cpu min ${cpu[0]!.toFixed(0)} / median ${med(cpu).toFixed(0)} ms  peak RSS ${Math.max(...samples.map((s) => s.maxRssMiB)).toFixed(0)} MiB`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
