/**
 * Media capture benchmark: captureHourMedia (in a child process of its own, local store) against the
 * IM simulator on loopback, next to curl fetching the same objects one after the other.
 *
 *   npm run bench:media -- [--files 2000] [--hours 4] [--min-kib 20] [--max-kib 200] [--video-mib 2048]
 *                          [--runs 2] [--concurrency IM_MEDIA_CONCURRENCY's default] [--max-minutes 20]
 *
 * (a) A window of many small files: a simulator child (Tencent's 10 calls/s limit, no missing objects)
 *     with enough messages per hour for about --files media objects across --hours hours, each object
 *     sized uniformly in [--min-kib, --max-kib]. (b) One video of --video-mib in an hour of its own (a
 *     second simulator with few messages; the hour's few other objects are 0.5 – 4 KiB).
 * The hours are archived into a base DATA_DIR first (im-core, in this process). Then, best of --runs:
 *   - imvault: test/support/media-capture-child.ts, bundled first with the CLI's esbuild options (as
 *     the `imvault` bin runs: no type stripping at run time, which alone adds ~40 MB of peak RSS),
 *     captures the hours into a fresh copy of the base DATA_DIR, as many at a time as `imvault media`
 *     does by default; e2e = its spawn to exit, capture = its own time for the hours; its peak RSS
 *     (getrusage maxRSS) and CPU. At the simulator: get_cos_sig calls, the most in any one second
 *     (sliding) and any 60007, and the media downloads (every object fetched exactly once).
 *   - curl: one process, `curl -sS --fail --config` listing every object's PreSigURL (asked for here,
 *     after the capture, before curl's timer starts) and an output file: one after the other on one
 *     keep-alive connection, into files, without fsync (the local store syncs every object and its
 *     directory). Two more rows, for what curl's figure leaves out: the get_cos_sig calls' time plus
 *     curl's, and curl's plus a `sync -f` (syncfs) of the file system after it.
 * Every captured object's SHA-256 (the media manifests') is checked against the bytes curl fetched.
 * MB = 10^6 bytes. Everything started here is stopped, and the temp dir removed, at the end, on
 * failure, on Ctrl-C and at --max-minutes.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createLocalStore, DEFAULT_MEDIA_CONFIG, readMediaManifest } from "@imvault/im-core";
import { TEST_ADMIN, TEST_SDKAPPID, TEST_SECRET_KEY } from "@imvault/im-sim";
import { build } from "esbuild";
import { DEFAULT_MEDIA_HOUR_CONCURRENCY } from "../packages/cli/src/commands/archive-defaults.ts";
import { cliBundleOptions } from "../scripts/bundle-cli.ts";
import { type MediaChildConfig, parseUsage } from "../test/support/media-capture-child.ts";
import { childrenGone, runToEnd, stopChildren } from "./lib/children.ts";
import {
  type ArchivedHour,
  archiveWithMedia,
  cosSigRate,
  forgetRecords,
  hourBack,
  preSigUrls,
  type SimChild,
  seededSizes,
  setSizes,
  simRecords,
  startSim,
} from "./lib/media-window.ts";

const CHILD_SOURCE = fileURLToPath(new URL("../test/support/media-capture-child.ts", import.meta.url));
const KiB = 1024;
const MiB = 1024 * 1024;
const MB = 1e6;
/** The figures: Tencent's get_cos_sig limit, and peak RSS "under 200 MB". */
const COS_SIG_LIMIT = 10;
const RSS_LIMIT_MB = 200;
/** Media URLs per simulated message (images: 3 sizes, 12%; sound 5%; file 3%; video + thumbnail 4%). */
const URLS_PER_MESSAGE = 0.52;

interface Capture {
  e2eMs: number;
  captureMs: number;
  maxRssMB: number;
  cpuS: number;
  files: number;
  bytes: number;
  cosSig: ReturnType<typeof cosSigRate>;
  /** Media downloads the simulator answered 200 beyond one per object (an object fetched again). */
  refetched: number;
  sha256: Map<string, string>;
}

/** The capture child as one ES module bundle (plus lazily loaded chunks), built like the CLI's. */
async function bundleChild(outdir: string): Promise<string> {
  await build({ ...cliBundleOptions(outdir), entryPoints: [CHILD_SOURCE], metafile: false });
  return join(outdir, "media-capture-child.mjs");
}

async function capture(
  child: string,
  sim: SimChild,
  base: string,
  run: string,
  hours: ArchivedHour[],
  concurrency: number,
) {
  await cp(base, run, { recursive: true });
  await forgetRecords(sim);
  const config: MediaChildConfig = {
    simUrl: sim.url,
    sdkAppId: TEST_SDKAPPID,
    secretKey: TEST_SECRET_KEY,
    admin: TEST_ADMIN,
    store: { kind: "local", root: run },
    hours: hours.map(({ chatType, msgTime }) => ({ chatType, msgTime })),
    concurrency,
    hoursAtOnce: DEFAULT_MEDIA_HOUR_CONCURRENCY,
  };
  const start = performance.now();
  const r = await runToEnd(process.execPath, [child, JSON.stringify(config)], { timeoutMs: 900_000 }).done;
  const e2eMs = performance.now() - start;
  if (r.code !== 0) throw new Error(`media capture exited ${r.code}:\n${r.stdout}\n${r.stderr.slice(-2000)}`);
  const usage = parseUsage(r.stderr)!;
  const done = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { captureMs: number };
  const records = await simRecords(sim);
  const media = records.downloads.filter((d) => d.target === "media" && d.status === 200);
  const paths = new Set(media.map((d) => d.path));
  const store = createLocalStore({ root: run });
  const sha256 = new Map<string, string>();
  let bytes = 0;
  for (const h of hours) {
    const manifest = await readMediaManifest(store, h.chatType, h.msgTime);
    if (manifest === undefined) throw new Error(`no media manifest for ${h.chatType} ${h.msgTime}`);
    for (const item of manifest.items) {
      if (item.status !== "captured") continue;
      sha256.set(item.rawUrl, item.sha256);
      bytes += item.size;
    }
  }
  return {
    e2eMs,
    captureMs: done.captureMs,
    maxRssMB: (usage.maxRssKb * KiB) / MB,
    cpuS: usage.cpuUs / 1e6,
    files: sha256.size,
    bytes,
    cosSig: cosSigRate(records),
    refetched: media.length - paths.size,
    sha256,
  } satisfies Capture;
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: MiB })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/**
 * curl, one process, the objects one after the other; answers its time, the time the same get_cos_sig
 * calls took before it (asked one after the other through a client at Tencent's 10 calls/s), the time
 * `sync -f` took after it (syncfs: every dirty page of the file system, other processes' too), and the
 * SHA-256 of each file.
 */
async function curlAll(sim: SimChild, urls: string[], dir: string) {
  const signStart = performance.now();
  const presigned = await preSigUrls(sim, urls);
  const signMs = performance.now() - signStart;
  await mkdir(dir, { recursive: true });
  const list = [...presigned];
  const config = list.map(([, url], i) => `url = "${url}"\noutput = "${join(dir, String(i))}"\n`).join("");
  const configPath = join(dir, "curl.config");
  await writeFile(configPath, config);
  const start = performance.now();
  const r = await runToEnd("curl", ["-sS", "--fail", "--config", configPath], { timeoutMs: 900_000 }).done;
  const ms = performance.now() - start;
  if (r.code !== 0) throw new Error(`curl exited ${r.code}: ${r.stderr.slice(-600)}`);
  const syncStart = performance.now();
  const synced = await runToEnd("sync", ["-f", dir], { timeoutMs: 300_000 }).done;
  const syncMs = performance.now() - syncStart;
  if (synced.code !== 0) throw new Error(`sync -f exited ${synced.code}: ${synced.stderr.slice(-600)}`);
  const sha256 = new Map<string, string>();
  for (const [i, [rawUrl]] of list.entries()) sha256.set(rawUrl, await sha256OfFile(join(dir, String(i))));
  // The curl side's get_cos_sig calls must not share a second with the next capture's.
  await new Promise((r) => setTimeout(r, 1100));
  return { ms, signMs, syncMs, sha256 };
}

interface Case {
  name: string;
  captures: Capture[];
  curl: { ms: number; signMs: number; syncMs: number }[];
  mismatches: number;
  checked: number;
}

async function runCase(
  name: string,
  sim: SimChild,
  base: string,
  hours: ArchivedHour[],
  o: { runs: number; concurrency: number; root: string; child: string; removeEachRun: boolean },
): Promise<Case> {
  const urls = hours.flatMap((h) => h.urls);
  const c: Case = { name, captures: [], curl: [], mismatches: 0, checked: 0 };
  const slug = base.split("/").at(-1)!;
  for (let i = 0; i < o.runs; i++) {
    const runDir = join(o.root, `run-${slug}-${i}`);
    const curlDir = join(o.root, `curl-${slug}-${i}`);
    const cap = await capture(o.child, sim, base, runDir, hours, o.concurrency);
    const curl = await curlAll(sim, urls, curlDir);
    // Many small files stay until the end: deleting thousands of files makes the next run's file
    // creations scan the freed inodes (ext4's recently_deleted; it showed in `perf` of the capture
    // child), whichever side runs next. A few big ones are deleted at once, to keep the disk free.
    if (o.removeEachRun) {
      await rm(runDir, { recursive: true, force: true });
      await rm(curlDir, { recursive: true, force: true });
    }
    c.captures.push(cap);
    c.curl.push({ ms: curl.ms, signMs: curl.signMs, syncMs: curl.syncMs });
    for (const [rawUrl, sha] of cap.sha256) {
      c.checked++;
      if (curl.sha256.get(rawUrl) !== sha) c.mismatches++;
    }
    if (curl.sha256.size !== cap.files) c.mismatches += Math.abs(curl.sha256.size - cap.files);
    process.stderr.write(`bench:media: ${name} run ${i + 1}/${o.runs} done\n`);
  }
  return c;
}

const ok = (pass: boolean) => (pass ? "ok" : "MISSED");
const col = (text: string, width: number) => text.padStart(width);

function report(cases: Case[]): string[] {
  const lines = [
    `${"".padEnd(36)}${col("files", 6)}${col("MB", 9)}${col("time s", 8)}${col("files/s", 9)}${col("MB/s", 8)}` +
      `${col("cos_sig", 9)}${col("max/s", 7)}${col("RSS MB", 8)}${col("CPU s", 7)}`,
  ];
  const verdicts: string[] = [];
  for (const c of cases) {
    const best = c.captures.reduce((a, b) => (b.e2eMs < a.e2eMs ? b : a));
    const curlMs = Math.min(...c.curl.map((x) => x.ms));
    const signedMs = Math.min(...c.curl.map((x) => x.signMs + x.ms));
    const syncedMs = Math.min(...c.curl.map((x) => x.ms + x.syncMs));
    const row = (label: string, ms: number, extra = "") =>
      `${label.padEnd(36)}${col(String(best.files), 6)}${col((best.bytes / MB).toFixed(1), 9)}` +
      `${col((ms / 1000).toFixed(2), 8)}${col((best.files / (ms / 1000)).toFixed(0), 9)}` +
      `${col((best.bytes / MB / (ms / 1000)).toFixed(1), 8)}${extra}`;
    const rss = Math.max(...c.captures.map((x) => x.maxRssMB));
    const maxPerSecond = Math.max(...c.captures.map((x) => x.cosSig.maxPerSecond));
    const limited = c.captures.reduce((a, x) => a + x.cosSig.rateLimited, 0);
    lines.push(
      c.name,
      row(
        "  imvault, e2e (spawn to exit)",
        best.e2eMs,
        `${col(String(best.cosSig.calls), 9)}${col(String(best.cosSig.maxPerSecond), 7)}` +
          `${col(best.maxRssMB.toFixed(0), 8)}${col(best.cpuS.toFixed(2), 7)}`,
      ),
      row(
        "  imvault, capture alone",
        best.captureMs,
        `${col((best.cosSig.calls / (best.captureMs / 1000)).toFixed(1), 9)}${col("avg/s", 7)}`,
      ),
      row("  curl, one after another", curlMs),
      row("  get_cos_sig, then curl", signedMs),
      row("  curl, then sync -f", syncedMs),
    );
    const refetched = c.captures.reduce((a, x) => a + x.refetched, 0);
    verdicts.push(
      `${c.name}: imvault e2e ${(curlMs / best.e2eMs).toFixed(2)}x curl's throughput, capture alone ` +
        `${(curlMs / best.captureMs).toFixed(2)}x (beats the floor: ${ok(best.e2eMs <= curlMs)}); ` +
        `get_cos_sig at most ${maxPerSecond} in any second, ${limited} answered 60007 ` +
        `(<= ${COS_SIG_LIMIT}/s: ${ok(maxPerSecond <= COS_SIG_LIMIT && limited === 0)}); ` +
        `peak RSS ${rss.toFixed(0)} MB, worst of ${c.captures.length} (< ${RSS_LIMIT_MB} MB: ${ok(rss < RSS_LIMIT_MB)}); ` +
        `${c.checked} SHA-256 equal to curl's bytes (${ok(c.mismatches === 0)}); ` +
        `objects fetched twice: ${refetched}; ` +
        `against get_cos_sig then curl ${(signedMs / best.e2eMs).toFixed(2)}x, against curl then sync -f ` +
        `${(syncedMs / best.e2eMs).toFixed(2)}x`,
    );
  }
  return [...lines, ...verdicts];
}

async function smallWindow(o: Options, root: string, child: string): Promise<Case> {
  const perHour = Math.max(1, Math.round(o.files / o.hours / URLS_PER_MESSAGE));
  const sim = await startSim([
    "--seed",
    "bench-media",
    "--messages-per-hour",
    String(perHour),
    "--missing-fraction",
    "0",
  ]);
  const base = join(root, "base-small");
  const hours: ArchivedHour[] = [];
  for (let n = 0; n < o.hours; n++) hours.push(await archiveWithMedia(sim, base, "C2C", hourBack(n)));
  await setSizes(
    sim,
    seededSizes(
      hours.flatMap((h) => h.urls),
      o.minKiB * KiB,
      o.maxKiB * KiB,
    ),
  );
  const name = `(a) ${o.hours} hours, ${o.minKiB}-${o.maxKiB} KiB`;
  const options = { runs: o.runs, concurrency: o.concurrency, root, child, removeEachRun: false };
  return runCase(name, sim, base, hours, options);
}

async function oneVideo(o: Options, root: string, child: string): Promise<Case> {
  const sim = await startSim([
    "--seed",
    "bench-media-video",
    "--messages-per-hour",
    "30",
    "--missing-fraction",
    "0",
  ]);
  const base = join(root, "base-video");
  for (let n = 0; n < 24; n++) {
    const hour = await archiveWithMedia(sim, base, "C2C", hourBack(n));
    const video = hour.urls.find((u) => u.endsWith(".mp4"));
    if (video === undefined) continue;
    await setSizes(sim, new Map([[video, o.videoMiB * MiB]]));
    const name = `(b) 1 video, ${o.videoMiB} MiB`;
    const options = { runs: o.runs, concurrency: o.concurrency, root, child, removeEachRun: true };
    return runCase(name, sim, base, [hour], options);
  }
  throw new Error("no hour of the video simulator holds a video");
}

interface Options {
  files: number;
  hours: number;
  minKiB: number;
  maxKiB: number;
  videoMiB: number;
  runs: number;
  concurrency: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      files: { type: "string", default: "2000" },
      hours: { type: "string", default: "4" },
      "min-kib": { type: "string", default: "20" },
      "max-kib": { type: "string", default: "200" },
      "video-mib": { type: "string", default: "2048" },
      runs: { type: "string", default: "2" },
      concurrency: { type: "string", default: String(DEFAULT_MEDIA_CONFIG.concurrency) },
      "max-minutes": { type: "string", default: "20" },
    },
  });
  const o: Options = {
    files: Number(values.files),
    hours: Number(values.hours),
    minKiB: Number(values["min-kib"]),
    maxKiB: Number(values["max-kib"]),
    videoMiB: Number(values["video-mib"]),
    runs: Number(values.runs),
    concurrency: Number(values.concurrency),
  };
  if (Object.values(o).some((x) => !Number.isInteger(x) || x < 1) || o.maxKiB < o.minKiB) {
    throw new Error(
      "usage: --files N --hours N --min-kib N --max-kib N --video-mib N --runs N --concurrency N",
    );
  }
  const root = await mkdtemp(join(tmpdir(), "imvault-bench-media-"));
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    stopChildren();
    await childrenGone(3_000);
    await rm(root, { recursive: true, force: true });
  };
  const abort = async (why: string, code: number) => {
    process.stderr.write(`bench:media: ${why}; stopping children and removing ${root}\n`);
    await cleanup();
    process.exit(code);
  };
  process.once("SIGINT", () => void abort("SIGINT", 130));
  process.once("SIGTERM", () => void abort("SIGTERM", 143));
  const limit = setTimeout(
    () => void abort(`time limit of ${values["max-minutes"]} minutes`, 2),
    Number(values["max-minutes"]) * 60_000,
  );
  limit.unref();
  try {
    const child = await bundleChild(join(root, "child"));
    const small = await smallWindow(o, root, child);
    stopChildren();
    await childrenGone(3_000);
    const video = await oneVideo(o, root, child);
    console.log(
      [
        `imvault media capture benchmark — Node ${process.version}, ${availableParallelism()} cores, load average ` +
          `${loadavg()
            .map((x) => x.toFixed(2))
            .join(" ")}; MB = 10^6 bytes; best of ${o.runs} by e2e; concurrency ${o.concurrency}`,
        `imvault = captureHourMedia in a child process, ${DEFAULT_MEDIA_HOUR_CONCURRENCY} hours at a time as \`imvault media\` ` +
          "(bundled; local store: every object and its index entry written to a temp file, fsynced, linked into place; " +
          "the directories fsynced once per hour before its manifest; SHA-256 of every byte); e2e = its spawn to exit. " +
          "curl = one process, the same objects one after the other, into files (no fsync, no hash), its PreSigURLs " +
          "asked before its timer starts; get_cos_sig, then curl = those calls' time (10/s) plus curl's; " +
          "curl, then sync -f = curl's time plus a syncfs of the file system after it.",
        ...report([small, video]),
      ].join("\n"),
    );
  } finally {
    clearTimeout(limit);
    await cleanup();
  }
}

await main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
