/**
 * The two halves of the "two-core limit" both archive benchmarks compare against: inflating the GZip
 * bytes alone, and MD5-ing the GZip and the plain bytes alone. They can run on both cores at once, so
 * the limit is the slower of the two.
 *
 * Also a program of its own, the smallest Node program that does one half:
 *   node bench/lib/baselines.js inflate|md5 GZ_PATH PLAIN_PATH ZLIB_CHUNK_BYTES
 * prints {"ms": …}, the time of the work alone. Its spawn-to-exit time is the limit a Node command
 * line tool is held to end to end: Node's own start-up included, nothing else. Plain JavaScript with
 * node: imports only, so that start-up is not inflated by type stripping or by anything of imvault's.
 */
import { createHash } from "node:crypto";
import { closeSync, createReadStream, openSync, readSync } from "node:fs";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";

const MiB = 1024 * 1024;

/** @returns {Writable} a sink that drops everything */
export function nullSink() {
  return new Writable({ write: (_chunk, _encoding, callback) => callback() });
}

/**
 * Node's inflate alone, read in 1 MiB pieces.
 * @param {string} gzPath
 * @param {number} chunkSize zlib's output chunk size (the verifier's, to compare like with like)
 */
export async function inflateOnly(gzPath, chunkSize) {
  await pipeline(createReadStream(gzPath, { highWaterMark: MiB }), createGunzip({ chunkSize }), nullSink());
}

/**
 * MD5 of the GZip file and of the plain file, read synchronously (from the page cache).
 * @param {string} gzPath
 * @param {string} plainPath
 */
export function md5Only(gzPath, plainPath) {
  const buf = Buffer.allocUnsafe(MiB);
  for (const path of [gzPath, plainPath]) {
    const hash = createHash("md5");
    const fd = openSync(path, "r");
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) hash.update(buf.subarray(0, n));
    closeSync(fd);
    hash.digest("hex");
  }
}

if (process.argv[1] === import.meta.filename) {
  const [, , mode, gzPath, plainPath, chunkBytes] = process.argv;
  const start = performance.now();
  if (mode === "inflate" && gzPath !== undefined) await inflateOnly(gzPath, Number(chunkBytes));
  else if (mode === "md5" && gzPath !== undefined && plainPath !== undefined) md5Only(gzPath, plainPath);
  else throw new Error("usage: baselines.js inflate|md5 GZ_PATH PLAIN_PATH ZLIB_CHUNK_BYTES");
  process.stdout.write(`${JSON.stringify({ ms: performance.now() - start })}\n`);
}
