/**
 * The directory an export is written to. Everything goes into a temp directory beside `--out` (same
 * file system) and is renamed to `--out` at the end, after export-manifest.json, so that a failed or
 * interrupted export leaves nothing half-written under that name. Each file's SHA-256 and size are
 * computed as its bytes are written, for the manifest.
 */
import { createHash, type Hash } from "node:crypto";
import { once } from "node:events";
import { createWriteStream, mkdirSync, rmdirSync, type WriteStream } from "node:fs";
import { mkdtemp, readdir, rename, rm, rmdir, stat } from "node:fs/promises";
import { basename, dirname, join, resolve, sep } from "node:path";
import { ValidationError } from "../errors.ts";

/** `--out` cannot be written: it exists with something in it, or its parent is missing or read-only. */
export class ExportTargetError extends ValidationError {}

export interface ExportFile {
  /** Relative to the export's directory, with forward slashes. */
  path: string;
  size: number;
  sha256: string;
}

/** One file being written: chunks in order, with backpressure; `close` gives its record. */
export interface FileSink {
  write(chunk: Buffer | string): Promise<void>;
  close(): Promise<ExportFile>;
}

export class ExportDir {
  readonly out: string;
  readonly temp: string;
  readonly files: ExportFile[] = [];
  readonly #dirs = new Set<string>();
  readonly #paths = new Set<string>();

  private constructor(out: string, temp: string) {
    this.out = out;
    this.temp = temp;
  }

  /** Checks `out` (absent, or an empty directory) and creates the temp directory beside it. */
  static async create(outPath: string): Promise<ExportDir> {
    const out = resolve(outPath);
    const existing = await stat(out).catch(() => undefined);
    if (existing !== undefined) {
      if (!existing.isDirectory()) throw new ExportTargetError(`--out ${out} exists and is not a directory`);
      if ((await readdir(out)).length > 0) {
        throw new ExportTargetError(`--out ${out} is not empty: give a new directory (nothing was written)`);
      }
    }
    const parent = dirname(out);
    let temp: string;
    try {
      temp = await mkdtemp(join(parent, `.${basename(out)}.export-`));
    } catch (error) {
      const code = (error as { code?: string }).code ?? "error";
      // ENOENT from a parent that is there: a file system that makes no files (procfs, say).
      const parentIsDir = code === "ENOENT" && (await stat(parent).catch(() => undefined))?.isDirectory();
      const why =
        code === "ENOENT"
          ? parentIsDir
            ? "its parent directory accepts no new files"
            : "its parent directory does not exist"
          : code === "ENOTDIR"
            ? "its parent is not a directory"
            : code === "EACCES" || code === "EPERM" || code === "EROFS"
              ? "its parent directory cannot be written"
              : `it cannot be created beside it`;
      throw new ExportTargetError(`--out ${out}: ${why} (${code}); nothing was written`);
    }
    return new ExportDir(out, temp);
  }

  /** A new file at `path` (relative, forward slashes) in the export. */
  async open(path: string): Promise<FileSink> {
    const full = this.#reserve(path);
    const stream = createWriteStream(full, { flags: "wx" });
    return new HashingSink(path, stream, this.files);
  }

  /**
   * A new file at `path` written by `write`, given its full path (its directory exists, nothing is
   * there yet), which answers the size and SHA-256 of what it wrote: a medium's checked copy. When
   * `write` fails, the directories made for it are removed again if empty.
   */
  async add(
    path: string,
    write: (full: string) => Promise<{ size: number; sha256: string }>,
  ): Promise<ExportFile> {
    const full = this.#reserve(path);
    let written: { size: number; sha256: string };
    try {
      written = await write(full);
    } catch (error) {
      this.#paths.delete(path);
      this.#removeEmptyDirs(dirname(full));
      throw error;
    }
    const file = { path, size: written.size, sha256: written.sha256 };
    this.files.push(file);
    return file;
  }

  /** Renames the temp directory to `out`: the export appears whole, at once. */
  async commit(): Promise<void> {
    // An empty directory at `out` was accepted by create(); rename cannot replace it on every system.
    await rmdir(this.out).catch(() => undefined);
    await rename(this.temp, this.out);
  }

  /** Removes everything written so far. */
  async abort(): Promise<void> {
    await rm(this.temp, { recursive: true, force: true });
  }

  #full(path: string): string {
    const full = resolve(this.temp, ...path.split("/"));
    if (!full.startsWith(`${this.temp}${sep}`))
      throw new ValidationError(`export path ${path} leaves the export`);
    return full;
  }

  #removeEmptyDirs(from: string): void {
    for (let dir = from; dir !== this.temp; dir = dirname(dir)) {
      try {
        rmdirSync(dir);
      } catch {
        return;
      }
      this.#dirs.delete(dir);
    }
  }

  /** The full path of a new file at `path`, its directory made. */
  #reserve(path: string): string {
    const full = this.#full(path);
    if (this.#paths.has(path)) throw new ValidationError(`export file ${path} written twice`);
    this.#paths.add(path);
    const dir = dirname(full);
    // Synchronous: one system call, where the thread pool's round trip cost more (a medium's
    // directory is often its own).
    if (!this.#dirs.has(dir)) {
      mkdirSync(dir, { recursive: true });
      this.#dirs.add(dir);
    }
    return full;
  }
}

class HashingSink implements FileSink {
  readonly #hash: Hash = createHash("sha256");
  #size = 0;
  #error: Error | undefined;

  readonly path: string;
  readonly stream: WriteStream;
  readonly files: ExportFile[];

  constructor(path: string, stream: WriteStream, files: ExportFile[]) {
    this.path = path;
    this.stream = stream;
    this.files = files;
    stream.on("error", (error) => {
      this.#error = error;
    });
  }

  async write(chunk: Buffer | string): Promise<void> {
    if (this.#error !== undefined) throw this.#error;
    const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
    this.#hash.update(bytes);
    this.#size += bytes.length;
    if (!this.stream.write(bytes)) {
      // Rejects if the stream fails meanwhile; no listener is left behind either way.
      await once(this.stream, "drain");
    }
  }

  async close(): Promise<ExportFile> {
    if (this.#error !== undefined) throw this.#error;
    await new Promise<void>((res, rej) => {
      this.stream.once("error", rej);
      this.stream.end(() => res());
    });
    const file = { path: this.path, size: this.#size, sha256: this.#hash.digest("hex") };
    this.files.push(file);
    return file;
  }
}
