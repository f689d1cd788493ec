/**
 * Micro-benchmark of the one-pass verifier against the plain shell pipeline and the two-core limit,
 * then `imvault verify`'s full verification of an archive against sha256sum (bench/lib/evidence-bench.ts).
 *
 *   npm run bench:verify -- [--mb 600] [--runs 3] [--archive-gib 1] [--plain-mb 200] [--deep] [--keep]
 *
 * Generates a realistic history file of about `--mb` MiB uncompressed (GZip level 6) in a temp
 * directory, then, on that same file, best of `--runs` each (every measurement in a fresh process so
 * that peak RSS is the measured code's own):
 *   (a) imvault: fs.createReadStream → createVerifier → null sink;
 *   (b) pipeline: cat FILE | tee >(md5sum >/dev/null) | gunzip | md5sum;
 *   (c) the two-core limit: Node inflate-only and MD5-only (GZip + plain bytes) times; the limit is
 *       the larger, since the two can run on both cores at once.
 * Then, on an archive of about `--archive-gib` GiB (0: skip), (d) the full verification (chain + files
 * against their seal) and (e) sha256sum over the same files; with --deep, (f) verify --deep.
 */
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { parseArgs } from "node:util";
import { createGunzip } from "node:zlib";
import { createVerifier, VERIFIER_DEFAULTS } from "@imvault/im-core";
import { inflateOnly, md5Only, nullSink } from "./lib/baselines.js";
import { stdoutOf } from "./lib/children.ts";
import { benchEvidence } from "./lib/evidence-bench.ts";
import { writeGzipHistory } from "./lib/history-gen.ts";

const MiB = 1024 * 1024;

/** The four get_history figures of a generated file, and its message count. */
interface FileFigures {
  gzipSize: number;
  gzipMd5: string;
  fileSize: number;
  fileMd5: string;
  messageCount: number;
}

/** Generates the GZip file (the benchmarks' shared generator) and a plain copy for the MD5-only baseline. */
async function generateFile(gzPath: string, plainBytes: number, plainPath: string): Promise<FileFigures> {
  const made = await writeGzipHistory(gzPath, { targetBytes: plainBytes });
  await pipeline(createReadStream(gzPath), createGunzip(), createWriteStream(plainPath));
  return {
    gzipSize: made.gzipBytes,
    gzipMd5: made.gzipMd5,
    fileSize: made.plainBytes,
    fileMd5: made.plainMd5,
    messageCount: made.messages,
  };
}

interface Sample {
  ms: number;
  /** CPU time of the process, all threads (zlib's threadpool included): cpu/wall shows the overlap. */
  cpuMs: number;
  maxRssMiB: number;
}

function sample(start: number, cpuStart: NodeJS.CpuUsage): Sample {
  const cpu = process.cpuUsage(cpuStart);
  return {
    ms: performance.now() - start,
    cpuMs: (cpu.user + cpu.system) / 1000,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}

/** Child-process measurements. Each prints one JSON Sample on stdout. */
async function child(mode: string, gzPath: string, plainPath: string, figuresJson: string): Promise<Sample> {
  const figures = JSON.parse(figuresJson) as FileFigures;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  if (mode === "verifier") {
    const { stream, figures: verified } = createVerifier(figures);
    await pipeline(createReadStream(gzPath), stream, nullSink());
    const got = await verified;
    if (got.messageCount !== figures.messageCount) throw new Error(`message count ${got.messageCount}`);
    return sample(start, cpuStart);
  }
  if (mode === "inflate") {
    await inflateOnly(gzPath, VERIFIER_DEFAULTS.inflateChunkSize);
    return sample(start, cpuStart);
  }
  if (mode === "md5") {
    md5Only(gzPath, plainPath);
    return sample(start, cpuStart);
  }
  throw new Error(`unknown mode ${mode}`);
}

async function measureChild(
  mode: string,
  gzPath: string,
  plainPath: string,
  figures: FileFigures,
): Promise<Sample> {
  const args = [import.meta.filename, "--child", mode, gzPath, plainPath, JSON.stringify(figures)];
  const out = await stdoutOf(process.execPath, args, { timeoutMs: 600_000 });
  return JSON.parse(out) as Sample;
}

async function measurePipeline(gzPath: string): Promise<Sample> {
  const start = performance.now();
  const script = `cat '${gzPath}' | tee >(md5sum >/dev/null) | gunzip | md5sum >/dev/null`;
  await stdoutOf("bash", ["-c", script], { timeoutMs: 600_000 });
  return { ms: performance.now() - start, cpuMs: Number.NaN, maxRssMiB: Number.NaN };
}

function best(samples: Sample[]): Sample {
  return samples.reduce((a, b) => (b.ms < a.ms ? b : a));
}

function rate(bytes: number, ms: number): string {
  return `${(bytes / MiB / (ms / 1000)).toFixed(0).padStart(5)} MB/s`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mb: { type: "string", default: "100" },
      runs: { type: "string", default: "5" },
      keep: { type: "boolean", default: false },
      "archive-gib": { type: "string", default: "1" },
      "plain-mb": { type: "string", default: "200" },
      deep: { type: "boolean", default: false },
    },
  });
  const plainTarget = Number(values.mb) * MiB;
  const runs = Number(values.runs);
  const dir = mkdtempSync(join(tmpdir(), "imvault-bench-verify-"));
  const cleanup = () => {
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
  };
  process.once("SIGINT", () => {
    cleanup();
    process.exit(130);
  });
  try {
    const gzPath = join(dir, "history.gz");
    const plainPath = join(dir, "history.json");
    const genStart = performance.now();
    const figures = await generateFile(gzPath, plainTarget, plainPath);
    const genMs = performance.now() - genStart;
    console.log(
      `file: ${(figures.fileSize / MiB).toFixed(1)} MiB plain, ${(figures.gzipSize / MiB).toFixed(1)} MiB gzip ` +
        `(ratio ${(figures.fileSize / figures.gzipSize).toFixed(2)}), ${figures.messageCount} messages; ` +
        `generated in ${(genMs / 1000).toFixed(1)} s; best of ${runs} runs each`,
    );
    const results: Record<string, Sample[]> = { verifier: [], pipeline: [], inflate: [], md5: [] };
    for (let i = 0; i < runs; i++) {
      // Interleaved so that drift in the shared machine's load hits every contender alike.
      results.verifier!.push(await measureChild("verifier", gzPath, plainPath, figures));
      results.pipeline!.push(await measurePipeline(gzPath));
      results.inflate!.push(await measureChild("inflate", gzPath, plainPath, figures));
      results.md5!.push(await measureChild("md5", gzPath, plainPath, figures));
    }
    const v = best(results.verifier!);
    const p = best(results.pipeline!);
    const inf = best(results.inflate!);
    const md5 = best(results.md5!);
    const limitMs = Math.max(inf.ms, md5.ms);
    const line = (name: string, s: Sample) =>
      `${name.padEnd(34)} ${(s.ms / 1000).toFixed(3).padStart(7)} s  gzip ${rate(figures.gzipSize, s.ms)}  ` +
      `plain ${rate(figures.fileSize, s.ms)}` +
      (Number.isNaN(s.maxRssMiB)
        ? ""
        : `  cpu ${(s.cpuMs / 1000).toFixed(3)} s  peak RSS ${s.maxRssMiB.toFixed(0)} MiB`);
    console.log(line("(a) imvault verifier", v));
    console.log(line("(b) cat|tee>(md5sum)|gunzip|md5sum", p));
    console.log(line("(c) node inflate only", inf));
    console.log(line("(c) node md5 only (gzip+plain)", md5));
    console.log(`(c) two-core limit = max(inflate, md5) = ${(limitMs / 1000).toFixed(3)} s`);
    const speedup = p.ms / v.ms;
    const overLimit = v.ms / limitMs;
    const verdict = (ok: boolean) => (ok ? "ok" : "MISSED");
    console.log(
      `imvault/pipeline throughput: ${speedup.toFixed(2)}x (target >= 1.25x: ${verdict(speedup >= 1.25)}); ` +
        `imvault time / limit: ${overLimit.toFixed(2)}x (target <= 1.5x: ${verdict(overLimit <= 1.5)}); ` +
        `peak RSS ${v.maxRssMiB.toFixed(0)} MiB (target < 200: ${verdict(v.maxRssMiB < 200)})`,
    );
    const gib = Number(values["archive-gib"]);
    if (gib > 0) {
      await benchEvidence({ tmp: dir, gib, plainMb: Number(values["plain-mb"]), runs, deep: values.deep });
    }
  } finally {
    cleanup();
  }
}

if (process.argv[2] === "--child") {
  const [, , , mode, gzPath, plainPath, figuresJson] = process.argv;
  child(mode!, gzPath!, plainPath!, figuresJson!).then(
    (s) => process.stdout.write(`${JSON.stringify(s)}\n`),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
} else {
  await main();
}
