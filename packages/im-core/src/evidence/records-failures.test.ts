/**
 * Recording a verification on a DATA_DIR that cannot be written: the failure names the real cause.
 * Node's recursive mkdir answers ENOENT on a read-only file system; the kernel's EROFS is injected
 * into node:fs/promises as it reports it (tests run as root, whom a read-only mount would need).
 */
import * as fsp from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fsError } from "../../testing/fs-errors.ts";
import { createLocalStore } from "../store/local-store.ts";
import { verificationRecords } from "./records.ts";

vi.mock("node:fs/promises", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:fs/promises")>();
  return { ...actual, mkdir: vi.fn(actual.mkdir) };
});
const real = await vi.importActual<typeof import("node:fs/promises")>("node:fs/promises");

describe("verificationRecords on a read-only DATA_DIR", () => {
  let root: string;

  beforeEach(async () => {
    root = await real.mkdtemp(join(tmpdir(), "imvault-records-ro-"));
  });
  afterEach(async () => {
    vi.mocked(fsp.mkdir).mockImplementation(real.mkdir);
    await real.rm(root, { recursive: true, force: true });
  });

  it("says EROFS and the directory it could not make, not Node's ENOENT", async () => {
    vi.mocked(fsp.mkdir).mockImplementation(async (path, options) => {
      const recursive = typeof options === "object" && options?.recursive === true;
      throw recursive
        ? fsError("ENOENT", "mkdir", join(root, ".imvault"))
        : fsError("EROFS", "mkdir", String(path));
    });
    const records = verificationRecords(createLocalStore({ root }));

    const write = records.write({
      version: 1,
      verifiedAt: "2024-05-10T04:30:00.000Z",
      ok: true,
      head: null,
      digests: { valid: 0, total: 0 },
      objects: { valid: 0, total: 0 },
      summary: "0/0 digest files valid",
    });

    await expect(write).rejects.toMatchObject({
      name: "StoreUnavailableError",
      message: `the local store cannot write ${join(root, ".imvault", "verified")}: read-only file system at ${join(root, ".imvault")} (EROFS)`,
    });
  });
});
