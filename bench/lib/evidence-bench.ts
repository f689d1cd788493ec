/**
 * `imvault verify`'s full verification (the chain of digests, every sealed manifest and raw file
 * re-hashed against its digest) of about `gib` GiB of archive, against `sha256sum` over the same
 * files, side by side (target: at most 1.3x sha256sum's time). Part of `npm run bench:verify`.
 *
 * The archive is built once in a temp DATA_DIR: one generated history file copied under one hour
 * each until the raw files reach the size, a manifest per hour, and one sealed digest. Every
 * measurement runs in a fresh process (the verification, sha256sum; with --deep also the manifest
 * MD5 re-check), interleaved, best of `runs`; each verification must come out valid.
 */
import { copyFile, mkdir, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  createLocalStore,
  hourOf,
  localSigner,
  rawKey,
  sealDigest,
  systemClock,
  writeManifest,
} from "@imvault/im-core";
import { stdoutOf } from "./children.ts";
import { writeGzipHistory } from "./history-gen.ts";

const MiB = 1024 * 1024;

interface Sample {
  ms: number;
}

/** Builds the archive; answers its directory's files (what both contenders read) and their bytes. */
async function buildArchive(
  dir: string,
  gib: number,
  plainMb: number,
): Promise<{ files: string[]; bytes: number }> {
  const store = createLocalStore({ root: dir });
  const source = join(dir, "..", "source.gz");
  const made = await writeGzipHistory(source, { targetBytes: plainMb * MiB });
  const copies = Math.ceil((gib * 1024 * MiB) / made.gzipBytes);
  const start = Date.parse("2024-01-01T00:00:00+08:00");
  for (let i = 0; i < copies; i++) {
    const msgTime = hourOf(start + i * 3_600_000);
    const key = rawKey("C2C", msgTime, "history.gz");
    await mkdir(join(dir, ...key.split("/").slice(0, -1)), { recursive: true });
    await copyFile(source, join(dir, ...key.split("/")));
    await writeManifest(store, {
      version: 1,
      chatType: "C2C",
      msgTime,
      status: "archived",
      files: [
        {
          key,
          sourceUrl: "https://bench.tim.qq.com/history.gz",
          gzipSize: made.gzipBytes,
          gzipMd5: made.gzipMd5,
          fileSize: made.plainBytes,
          fileMd5: made.plainMd5,
          messageCount: made.messages,
        },
      ],
      archivedAt: new Date().toISOString(),
    });
  }
  await sealDigest({ store, signer: await localSigner(dir), clock: systemClock }, { maxObjects: copies + 1 });
  const files = (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((d) => d.isFile() && !join(d.parentPath, d.name).includes(`${dir}/.imvault`))
    .map((d) => join(d.parentPath, d.name));
  let bytes = 0;
  for (const f of files) bytes += (await stat(f)).size;
  return { files, bytes };
}

const IMVAULT_BIN = fileURLToPath(new URL("../../packages/cli/bin/imvault.js", import.meta.url));

/** `imvault verify` on `dir`, timed from spawn to exit, as an operator runs it; it must exit 0. */
async function measureVerify(dir: string, deep: boolean): Promise<Sample> {
  const env = { PATH: process.env.PATH ?? "", DATA_DIR: dir, NO_COLOR: "1" };
  const start = performance.now();
  const out = await stdoutOf(IMVAULT_BIN, ["verify", ...(deep ? ["--deep"] : [])], {
    env,
    timeoutMs: 900_000,
  });
  const ms = performance.now() - start;
  if (!/^ok: /m.test(out) || !/digest files valid$/m.test(out))
    throw new Error(`imvault verify said:\n${out}`);
  return { ms };
}

async function measureSha256sum(
  files: string[],
  command = "sha256sum",
  args: string[] = [],
): Promise<Sample> {
  const start = performance.now();
  await stdoutOf(command, [...args, ...files], { timeoutMs: 900_000 });
  return { ms: performance.now() - start };
}

/** Whether `openssl` runs here (a second baseline: SHA-256 with the CPU's SHA extensions). */
async function hasOpenssl(): Promise<boolean> {
  return stdoutOf("openssl", ["version"], { timeoutMs: 10_000 }).then(
    () => true,
    () => false,
  );
}

const best = (samples: Sample[]) => samples.reduce((a, b) => (b.ms < a.ms ? b : a));

export async function benchEvidence(options: {
  tmp: string;
  gib: number;
  plainMb: number;
  runs: number;
  deep: boolean;
}) {
  const dir = join(options.tmp, "archive");
  const built = performance.now();
  const { files, bytes } = await buildArchive(dir, options.gib, options.plainMb);
  const raw = files.filter((f) => f.includes("/raw/")).length;
  console.log(
    `\narchive: ${(bytes / MiB).toFixed(0)} MiB in ${files.length} files (${raw} raw files, ${raw} manifests, 1 digest), ` +
      `built and sealed in ${((performance.now() - built) / 1000).toFixed(1)} s; best of ${options.runs} runs each`,
  );
  const openssl = await hasOpenssl();
  const samples: Record<string, Sample[]> = { verify: [], sha256sum: [], openssl: [], deep: [] };
  for (let i = 0; i < options.runs; i++) {
    samples.verify!.push(await measureVerify(dir, false));
    samples.sha256sum!.push(await measureSha256sum(files));
    if (openssl) samples.openssl!.push(await measureSha256sum(files, "openssl", ["dgst", "-sha256"]));
    if (options.deep) samples.deep!.push(await measureVerify(dir, true));
  }
  const rate = (s: Sample) => `${(bytes / MiB / (s.ms / 1000)).toFixed(0).padStart(5)} MB/s`;
  const line = (name: string, s: Sample) =>
    `${name.padEnd(42)} ${(s.ms / 1000).toFixed(3).padStart(7)} s  ${rate(s)}`;
  const v = best(samples.verify!);
  const sum = best(samples.sha256sum!);
  console.log(line("(d) imvault verify: chain + files (sealed)", v));
  console.log(line("(e) sha256sum over the same files", sum));
  if (openssl) console.log(line("(g) openssl dgst -sha256 over the same files", best(samples.openssl!)));
  if (options.deep) console.log(line("(f) imvault verify --deep (+ MD5s, gunzip)", best(samples.deep!)));
  const ratio = v.ms / sum.ms;
  console.log(
    `full verification / sha256sum: ${ratio.toFixed(2)}x (target <= 1.3x: ${ratio <= 1.3 ? "ok" : "MISSED"})`,
  );
}
