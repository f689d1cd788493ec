import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Writable } from "node:stream";
import { computeFigures, type FileFigures, type HourSpec } from "./generator.ts";

/**
 * The simulator's optional disk cache: an hour's GZip files written once, in the same pass that
 * computes their figures, so downloads stream them from disk instead of regenerating (deflate-bound,
 * ~30 MB/s plain) — fast enough to benchmark a real consumer.
 *
 * Layout, per hour: `<app>_<chatType>_<msgTime>-<fingerprint>.<index>.gz` and, written last, a
 * figures file `….json`. Every file is written under a temp name and renamed once complete, so a
 * killed simulator never leaves a partial file under a final name; its temp files are ignored.
 */

/** Bump when the generator's output changes for the same spec (old cache entries then no longer match). */
const FORMAT = 1;

export interface CachedHour {
  files: FileFigures[];
  /** Path of each file's GZip bytes, by index. */
  paths: string[];
}

interface FiguresFile {
  fingerprint: string;
  files: FileFigures[];
}

/** Everything the bytes depend on, zlib's version included (another zlib may deflate differently). */
function fingerprintOf(spec: HourSpec, gzipLevel: number): string {
  const identity = JSON.stringify({
    format: FORMAT,
    zlib: process.versions.zlib,
    seed: spec.seed,
    sdkAppId: spec.sdkAppId,
    chatType: spec.chatType,
    msgTime: spec.msgTime,
    volume: spec.volume,
    maxFileBytes: spec.maxFileBytes,
    gzipLevel,
  });
  return createHash("sha256").update(identity).digest("hex").slice(0, 20);
}

function tempName(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
}

/**
 * The hour's files from `dir`: reused when its figures file matches this spec and every GZip file is
 * there at its advertised size; otherwise generated (figures and bytes in one pass) and written.
 */
export async function cachedHour(
  dir: string,
  spec: HourSpec,
  gzipLevel: number,
  signal?: AbortSignal,
): Promise<CachedHour> {
  const fingerprint = fingerprintOf(spec, gzipLevel);
  const base = join(dir, `${spec.sdkAppId}_${spec.chatType}_${spec.msgTime}-${fingerprint}`);
  const figuresPath = `${base}.json`;
  const pathOf = (index: number) => `${base}.${index}.gz`;

  const reused = await readCached(figuresPath, fingerprint, pathOf);
  if (reused !== undefined) return reused;

  await mkdir(dir, { recursive: true });
  const temps: string[] = [];
  const sink = (index: number): Writable => {
    const temp = tempName(pathOf(index));
    temps.push(temp);
    return createWriteStream(temp, { highWaterMark: 1024 * 1024 });
  };
  try {
    const files = await computeFigures(spec, gzipLevel, signal, sink);
    const paths = files.map((f) => pathOf(f.index));
    for (let i = 0; i < files.length; i++) await rename(temps[i]!, paths[i]!);
    // The figures file last: its presence says every file before it is complete.
    const temp = tempName(figuresPath);
    temps.push(temp);
    await writeFile(temp, JSON.stringify({ fingerprint, files } satisfies FiguresFile));
    await rename(temp, figuresPath);
    return { files, paths };
  } catch (err) {
    await Promise.all(temps.map((t) => unlink(t).catch(() => {})));
    throw err;
  }
}

async function readCached(
  figuresPath: string,
  fingerprint: string,
  pathOf: (index: number) => string,
): Promise<CachedHour | undefined> {
  let saved: FiguresFile;
  try {
    saved = JSON.parse(await readFile(figuresPath, "utf8")) as FiguresFile;
  } catch {
    return undefined;
  }
  if (saved?.fingerprint !== fingerprint || !Array.isArray(saved.files)) return undefined;
  const paths = saved.files.map((f) => pathOf(f.index));
  for (let i = 0; i < paths.length; i++) {
    const size = await stat(paths[i]!).then(
      (s) => s.size,
      () => -1,
    );
    if (size !== saved.files[i]!.gzipSize) return undefined;
  }
  return { files: saved.files, paths };
}
