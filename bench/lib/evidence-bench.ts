/**
 * `imvault verify`'s full verification (the chain of digests, every sealed manifest and raw file
 * re-hashed against its digest) of about `gib` GiB of archive, against `sha256sum` over the same
 * files, side by side (target: at most 1.3x sha256sum's time). Part of `npm run bench:verify`.
 *
 * The archive is built once in a temp DATA_DIR: one generated history file copied under one hour
 * each until the raw files reach the size, a manifest per hour, and one sealed digest. Every
 * measurement runs in a fresh process (the verification, sha256sum; with --deep also the manifest
 * MD5 re-check), interleaved, best of `runs`; each verification must come out valid.
 *
 * Sealing, side by side: the archive's manifests record each raw file's SHA-256 (gzipSha256,
 * fileSha256), as archiving writes them, so its digest reads no raw file; the same hours with
 * manifests as written before those fields (raw files hard-linked into a second directory) make the
 * sealer hash every raw file. Each digest is sealed once, in this process.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { copyFile, link, mkdir, readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { createGunzip } from "node:zlib";
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

/** SHA-256 (hex) of a GZip file's bytes and of its plain bytes. */
async function sha256s(path: string): Promise<{ gzipSha256: string; fileSha256: string }> {
  const gzip = createHash("sha256");
  const plain = createHash("sha256");
  for await (const chunk of createReadStream(path)) gzip.update(chunk as Buffer);
  await pipeline(createReadStream(path), createGunzip(), async (source) => {
    for await (const chunk of source) plain.update(chunk as Buffer);
  });
  return { gzipSha256: gzip.digest("hex"), fileSha256: plain.digest("hex") };
}

/** How long sealing one digest over every hour took, by how the manifests were written. */
interface SealTimes {
  withSha256: Sample;
  withoutSha256: Sample;
}

/** Seals every hour of the store in one digest, timed. */
async function timedSeal(dir: string, objects: number): Promise<Sample> {
  const store = createLocalStore({ root: dir });
  const signer = await localSigner(dir);
  const start = performance.now();
  await sealDigest({ store, signer, clock: systemClock }, { maxObjects: objects });
  return { ms: performance.now() - start };
}

/**
 * Builds the archive; answers its directory's files (what both contenders read), their bytes, and the
 * sealing times (see the header).
 */
async function buildArchive(
  dir: string,
  gib: number,
  plainMb: number,
): Promise<{ files: string[]; bytes: number; seal: SealTimes }> {
  const store = createLocalStore({ root: dir });
  const legacyDir = join(dir, "..", "legacy");
  const legacy = createLocalStore({ root: legacyDir });
  const source = join(dir, "..", "source.gz");
  const made = await writeGzipHistory(source, { targetBytes: plainMb * MiB });
  const recorded = await sha256s(source);
  const copies = Math.ceil((gib * 1024 * MiB) / made.gzipBytes);
  const start = Date.parse("2024-01-01T00:00:00+08:00");
  for (let i = 0; i < copies; i++) {
    const msgTime = hourOf(start + i * 3_600_000);
    const key = rawKey("C2C", msgTime, "history.gz");
    for (const root of [dir, legacyDir])
      await mkdir(join(root, ...key.split("/").slice(0, -1)), { recursive: true });
    await copyFile(source, join(dir, ...key.split("/")));
    await link(join(dir, ...key.split("/")), join(legacyDir, ...key.split("/")));
    const file = {
      key,
      sourceUrl: "https://bench.tim.qq.com/history.gz",
      gzipSize: made.gzipBytes,
      gzipMd5: made.gzipMd5,
      fileSize: made.plainBytes,
      fileMd5: made.plainMd5,
      messageCount: made.messages,
    };
    const manifest = { version: 1 as const, chatType: "C2C" as const, msgTime, status: "archived" as const };
    const archivedAt = new Date().toISOString();
    await writeManifest(store, { ...manifest, files: [{ ...file, ...recorded }], archivedAt });
    await writeManifest(legacy, { ...manifest, files: [file], archivedAt });
  }
  // Interleaved: the legacy archive first, then the one verified below.
  const withoutSha256 = await timedSeal(legacyDir, copies + 1);
  const withSha256 = await timedSeal(dir, copies + 1);
  await rm(legacyDir, { recursive: true, force: true });
  const files = (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((d) => d.isFile() && !join(d.parentPath, d.name).includes(`${dir}/.imvault`))
    .map((d) => join(d.parentPath, d.name));
  let bytes = 0;
  for (const f of files) bytes += (await stat(f)).size;
  return { files, bytes, seal: { withSha256, withoutSha256 } };
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
  const { files, bytes, seal } = await buildArchive(dir, options.gib, options.plainMb);
  const raw = files.filter((f) => f.includes("/raw/")).length;
  console.log(
    `\narchive: ${(bytes / MiB).toFixed(0)} MiB in ${files.length} files (${raw} raw files, ${raw} manifests, 1 digest), ` +
      `built and sealed in ${((performance.now() - built) / 1000).toFixed(1)} s; best of ${options.runs} runs each`,
  );
  console.log(
    `sealing ${raw} hours in one digest: manifests with gzipSha256 ${(seal.withSha256.ms / 1000).toFixed(3)} s, ` +
      `without (older manifests: every raw file hashed) ${(seal.withoutSha256.ms / 1000).toFixed(3)} s`,
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
