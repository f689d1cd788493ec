import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buffer } from "node:stream/consumers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LegalHoldError } from "../errors.ts";
import { holdMarkerPath } from "./local-holds.ts";
import { createLocalStore, type LocalArchiveStore } from "./local-store.ts";

/** On a DATA_DIR imvault enforces legal holds itself: the store refuses to delete or replace a held key. */

let root: string;
let store: LocalArchiveStore;
const KEY = "raw/chat_type=C2C/dt=2024-05-01/hour=01/a.gz";

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "imvault-holds-"));
  store = createLocalStore({ root });
  await store.put(KEY, "original");
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("legal holds on the local store", () => {
  it("refuses to delete or replace a held key, with a LegalHoldError naming it; the bytes stay", async () => {
    await store.setLegalHold(KEY, true);

    const deleted = await store.delete(KEY).catch((e: unknown) => e);
    const replaced = await store.put(KEY, "replacement").catch((e: unknown) => e);

    for (const error of [deleted, replaced]) {
      expect(error).toBeInstanceOf(LegalHoldError);
      expect((error as Error).message).toContain(`${KEY} is under a legal hold`);
    }
    expect((await buffer(await store.get(KEY))).toString()).toBe("original");
  });

  it("deletes the key once the hold is released", async () => {
    await store.setLegalHold(KEY, true);
    await store.setLegalHold(KEY, false);

    await store.delete(KEY);

    expect(await store.head(KEY)).toBeUndefined();
  });

  it("keeps its marker under DATA_DIR/.imvault/holds/, out of the archive's listing, owner-only", async () => {
    await store.setLegalHold(KEY, true);

    const keys: string[] = [];
    for await (const obj of store.list("")) keys.push(obj.key);

    expect(holdMarkerPath(root, KEY)).toBe(join(root, ".imvault", "holds", "objects", ...KEY.split("/")));
    expect((await stat(holdMarkerPath(root, KEY))).mode & 0o777).toBe(0o600);
    expect(keys).toEqual([KEY]);
  });
});
