/**
 * The local store on a DATA_DIR it cannot write: every put rejects at once with a
 * StoreUnavailableError naming the path and the real cause, stops reading (and destroys) its body, and
 * leaves nothing behind. Tests run as root, whom permissions do not stop: a path through a regular file
 * is real here; a read-only file system, a refused permission and a full disk are file-system errors
 * injected into node:fs/promises, as the kernel reports them.
 */
import * as fsp from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fsError } from "../../testing/fs-errors.ts";
import { StoreUnavailableError } from "../errors.ts";
import { createLocalStore, type LocalArchiveStore } from "./local-store.ts";

vi.mock("node:fs/promises", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:fs/promises")>();
  return { ...actual, mkdir: vi.fn(actual.mkdir), open: vi.fn(actual.open) };
});
const real = await vi.importActual<typeof import("node:fs/promises")>("node:fs/promises");

const MiB = 1024 * 1024;

/** `totalBytes` of zeros in 64 KiB chunks, made as they are read; `read()` tells how many were. */
function zeros(totalBytes: number): { stream: Readable; read(): number } {
  let produced = 0;
  const stream = new Readable({
    read() {
      if (produced >= totalBytes) return void this.push(null);
      const size = Math.min(64 * 1024, totalBytes - produced);
      produced += size;
      this.push(Buffer.alloc(size));
    },
  });
  return { stream, read: () => produced };
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await real.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe("local store on a DATA_DIR it cannot write", () => {
  let dir: string;

  beforeEach(async () => {
    dir = await real.mkdtemp(join(tmpdir(), "imvault-local-failures-"));
  });

  afterEach(async () => {
    vi.mocked(fsp.mkdir).mockImplementation(real.mkdir);
    vi.mocked(fsp.open).mockImplementation(real.open);
    await real.rm(dir, { recursive: true, force: true });
  });

  it("a path through a regular file: ENOTDIR naming that file, body destroyed unread", async () => {
    await real.writeFile(join(dir, "file"), "x");
    const store = createLocalStore({ root: join(dir, "file", "data") });
    const body = zeros(64 * MiB);

    const put = store.put("raw/x.gz", body.stream);

    await expect(put).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(put).rejects.toMatchObject({
      code: "ENOTDIR",
      retryable: false,
      message: `the local store cannot write ${join(dir, "file", "data", ".imvault", "tmp")}: not a directory at ${join(dir, "file")} (ENOTDIR)`,
    });
    expect(body.stream.destroyed).toBe(true);
    expect(body.read()).toBeLessThan(MiB);
  });

  it("a read-only file system: EROFS naming the directory it could not make, not Node's ENOENT", async () => {
    // As Node reports it: a recursive mkdir answers ENOENT for the parent it could not make.
    const root = join(dir, "ro");
    await real.mkdir(root);
    vi.mocked(fsp.mkdir).mockImplementation(async (path, options) => {
      const p = String(path);
      if (!p.startsWith(`${root}/`)) return real.mkdir(path, options);
      const recursive = typeof options === "object" && options?.recursive === true;
      throw recursive ? fsError("ENOENT", "mkdir", join(root, ".imvault")) : fsError("EROFS", "mkdir", p);
    });
    const store = createLocalStore({ root });
    const body = zeros(64 * MiB);

    const put = store.put("raw/x.gz", body.stream);

    await expect(put).rejects.toMatchObject({
      name: "StoreUnavailableError",
      code: "EROFS",
      message: `the local store cannot write ${join(root, ".imvault", "tmp")}: read-only file system at ${join(root, ".imvault")} (EROFS)`,
    });
    expect(body.stream.destroyed).toBe(true);
    expect(await filesUnder(root)).toEqual([]);
  });

  it("no permission: EACCES naming the file it could not create", async () => {
    vi.mocked(fsp.open).mockImplementation(async (path, flags, mode) => {
      if (flags === "wx") throw fsError("EACCES", "open", String(path));
      return real.open(path, flags, mode);
    });
    const store = createLocalStore({ root: dir });

    const put = store.put("raw/x.gz", zeros(4 * MiB).stream);

    await expect(put).rejects.toMatchObject({
      name: "StoreUnavailableError",
      code: "EACCES",
      message: expect.stringMatching(
        new RegExp(
          `^the local store cannot write ${dir}/raw/x\\.gz: permission denied at ${dir}/\\.imvault/tmp/.+\\.part \\(EACCES\\)$`,
        ),
      ),
    });
  });

  it.each([
    ["ENOSPC", true, "no space left on device"],
    ["EDQUOT", true, "disk quota exceeded"],
    ["EIO", false, ""],
  ])(
    "a write failing with %s mid-file (permanent: %s) leaves no temp file or object",
    async (code, permanent, reason) => {
      vi.mocked(fsp.open).mockImplementation(async (path, flags, mode) => {
        const file = await real.open(path, flags, mode);
        if (flags === "wx") file.writev = async () => Promise.reject(fsError(code, "write"));
        return file;
      });
      const store = createLocalStore({ root: dir });

      const put = store.put("raw/x.gz", zeros(4 * MiB).stream);

      if (permanent) {
        await expect(put).rejects.toMatchObject({
          name: "StoreUnavailableError",
          message: `the local store cannot write ${dir}/raw/x.gz: ${reason} (${code})`,
        });
      } else {
        // A failure that may pass is the file system's own error: the archiver's next attempt may work.
        await expect(put).rejects.toMatchObject({ code, message: `${code}: write` });
        await expect(put).rejects.not.toBeInstanceOf(StoreUnavailableError);
      }
      expect(await filesUnder(dir)).toEqual([]);
    },
  );

  it("checkWritable passes on a fresh DATA_DIR, making it (0700), and names the cause when it cannot write", async () => {
    await real.writeFile(join(dir, "file"), "x");
    const fresh: LocalArchiveStore = createLocalStore({ root: join(dir, "new", "data") });
    const blocked: LocalArchiveStore = createLocalStore({ root: join(dir, "file", "data") });

    await fresh.checkWritable();

    expect(((await real.stat(join(dir, "new", "data"))).mode & 0o777).toString(8)).toBe("700");
    expect(await filesUnder(join(dir, "new"))).toEqual([]);
    await expect(blocked.checkWritable()).rejects.toMatchObject({
      name: "StoreUnavailableError",
      code: "ENOTDIR",
      message: expect.stringContaining(`not a directory at ${join(dir, "file")} (ENOTDIR)`),
    });
  });
});
