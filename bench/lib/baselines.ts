/**
 * The two halves of the "two-core limit" both archive benchmarks compare against: inflating the GZip
 * bytes alone, and MD5-ing the GZip and the plain bytes alone. They can run on both cores at once, so
 * the limit is the slower of the two. Each is meant to run in a fresh process of its own.
 */
import { createHash } from "node:crypto";
import { closeSync, createReadStream, openSync, readSync } from "node:fs";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { VERIFIER_DEFAULTS } from "../../packages/im-core/src/archive/verify-stream.ts";

const MiB = 1024 * 1024;

export function nullSink(): Writable {
  return new Writable({ write: (_chunk, _encoding, callback) => callback() });
}

/** Node's inflate alone, with the verifier's zlib chunk size. */
export async function inflateOnly(gzPath: string): Promise<void> {
  await pipeline(
    createReadStream(gzPath, { highWaterMark: MiB }),
    createGunzip({ chunkSize: VERIFIER_DEFAULTS.inflateChunkSize }),
    nullSink(),
  );
}

/** MD5 of the GZip file and of the plain file, read synchronously (from the page cache). */
export function md5Only(gzPath: string, plainPath: string): void {
  const buf = Buffer.allocUnsafe(MiB);
  for (const path of [gzPath, plainPath]) {
    const hash = createHash("md5");
    const fd = openSync(path, "r");
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) hash.update(buf.subarray(0, n));
    closeSync(fd);
    hash.digest("hex");
  }
}
