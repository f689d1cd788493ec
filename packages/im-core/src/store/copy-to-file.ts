/**
 * ArchiveStore.copyToFile's two ways, a byte stream written to a new local file while it is hashed
 * (an S3 object; a big local one) and a small local file copied with synchronous calls; and the local
 * store's `get`, which reads a small file the same way.
 */
import { createHash } from "node:crypto";
import { closeSync, createReadStream, fstatSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { open, rm } from "node:fs/promises";
import { Readable } from "node:stream";
import { NotFoundError } from "../errors.ts";
import { errorCode, storeFailure } from "./local-fs-errors.ts";
import type { CopiedFile } from "./port.ts";

/**
 * Up to this size a local object is read whole in one call and written in one, with synchronous
 * calls: a media file of a few dozen KiB then costs its few system calls, and nothing of a stream's
 * machinery or of libuv's thread pool, which hands every call to another thread and back
 * (bench/README.md, "Export"). Bigger ones are streamed. The event loop waits for one such read.
 */
export const SYNC_COPY_MAX_BYTES = 1024 * 1024;

/** Writes `body` to a new file at `path` (never over one) as it arrives; the file is removed on failure. */
export async function streamToFile(body: Readable, path: string): Promise<CopiedFile> {
  const hash = createHash("sha256");
  let size = 0;
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path, "wx");
  } catch (error) {
    body.destroy();
    throw error;
  }
  try {
    for await (const chunk of body) {
      const bytes = chunk as Buffer;
      hash.update(bytes);
      size += bytes.length;
      await file.write(bytes);
    }
    await file.close();
  } catch (error) {
    body.destroy();
    await file.close().catch(() => {});
    await rm(path, { force: true });
    throw error;
  }
  return { size, sha256: hash.digest("hex") };
}

/**
 * The local store's object `key`, the file at `source`, copied to a new file at `path`: with one read
 * and one write when it is at most SYNC_COPY_MAX_BYTES, else streamed. NotFoundError when there is no
 * regular file at `source`; no partial file is left at `path` on failure.
 */
export async function copyLocalFile(key: string, source: string, path: string): Promise<CopiedFile> {
  const fd = openObject(key, source);
  let copied: CopiedFile | "big";
  try {
    copied = copySmall(key, fd, path);
  } catch (error) {
    throw storeFailure(error, source, "read");
  } finally {
    closeSync(fd);
  }
  return copied === "big" ? streamToFile(createReadStream(source), path) : copied;
}

/** The local store's object `key`, the file at `source`, as a stream: read whole if small. */
export async function readLocalFile(key: string, source: string): Promise<Readable> {
  const fd = openObject(key, source);
  try {
    const bytes = readSmall(key, fd);
    if (bytes === "big") return createReadStream("", { fd });
    closeSync(fd);
    return Readable.from(bytes.length === 0 ? [] : [bytes], { objectMode: false });
  } catch (error) {
    closeSync(fd);
    throw storeFailure(error, source, "read");
  }
}

function openObject(key: string, source: string): number {
  try {
    return openSync(source, "r");
  } catch (error) {
    const code = errorCode(error);
    throw code === "ENOENT" || code === "ENOTDIR" ? notFound(key) : storeFailure(error, source, "read");
  }
}

function notFound(key: string): NotFoundError {
  return new NotFoundError(`no object at ${key}`, { details: { key } });
}

/** The whole of the open file if it is at most SYNC_COPY_MAX_BYTES; NotFoundError unless a regular file. */
function readSmall(key: string, fd: number): Buffer | "big" {
  const info = fstatSync(fd);
  if (!info.isFile()) throw notFound(key);
  if (info.size > SYNC_COPY_MAX_BYTES) return "big";
  const bytes = Buffer.allocUnsafe(info.size);
  let read = 0;
  while (read < bytes.length) {
    const n = readSync(fd, bytes, read, bytes.length - read, read);
    if (n === 0) break;
    read += n;
  }
  return bytes.subarray(0, read);
}

function copySmall(key: string, fd: number, path: string): CopiedFile | "big" {
  const data = readSmall(key, fd);
  if (data === "big") return data;
  const out = openSync(path, "wx");
  let open = true;
  try {
    for (let written = 0; written < data.length; ) written += writeSync(out, data, written);
    open = false;
    closeSync(out);
  } catch (error) {
    if (open) closeSync(out);
    rmSync(path, { force: true });
    throw error;
  }
  return { size: data.length, sha256: createHash("sha256").update(data).digest("hex") };
}
