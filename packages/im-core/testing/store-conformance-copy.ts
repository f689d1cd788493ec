import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NotFoundError } from "../src/errors.ts";
import type { ArchiveStore } from "../src/store/port.ts";

const MiB = 1024 * 1024;

/** ArchiveStore.copyToFile, part of the conformance suite (store-conformance.ts) on the store it makes. */
export function describeCopyToFile(currentStore: () => ArchiveStore): void {
  describe("copyToFile", () => {
    let store: ArchiveStore;
    let local: string;
    beforeEach(async () => {
      store = currentStore();
      local = await mkdtemp(join(tmpdir(), "imvault-copy-to-file-"));
    });
    afterEach(async () => {
      await rm(local, { recursive: true, force: true });
    });

    it.each([
      ["a small object", 30 * 1024],
      ["an empty object", 0],
      // Past the local store's one-read limit (1 MiB): streamed.
      ["a big object", 3 * MiB],
    ])("writes %s to a new local file and answers its size and SHA-256", async (_, size) => {
      const bytes = randomBytes(size);
      await store.put("media/host/a/b.jpg", bytes);
      const path = join(local, "b.jpg");

      const copied = await store.copyToFile("media/host/a/b.jpg", path);

      expect(copied).toEqual({ size, sha256: createHash("sha256").update(bytes).digest("hex") });
      expect((await readFile(path)).equals(bytes)).toBe(true);
    });

    it("rejects with NotFoundError for a missing key and writes nothing", async () => {
      await expect(store.copyToFile("media/host/none.jpg", join(local, "none.jpg"))).rejects.toBeInstanceOf(
        NotFoundError,
      );
      expect(await readdir(local)).toEqual([]);
    });

    it("never writes over a file already at the path", async () => {
      await store.put("media/host/c.jpg", "archived bytes");
      const path = join(local, "c.jpg");
      await writeFile(path, "already here");

      await expect(store.copyToFile("media/host/c.jpg", path)).rejects.toMatchObject({ code: "EEXIST" });
      expect(await readFile(path, "utf8")).toBe("already here");
    });
  });
}
