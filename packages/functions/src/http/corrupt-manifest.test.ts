import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalStore, type LocalArchiveStore, manifestKey } from "@imvault/im-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiHarness, json, OPS_TOKEN } from "../../testing/api-harness.ts";

/**
 * A manifest that is not JSON (or not a manifest) is answered for what it is, naming its key: the
 * hour is `corrupt` in /v1/status, and /v1/archive answers 409 with the error shape, not a 500.
 */

const AUTH = { authorization: `Bearer ${OPS_TOKEN}` };
const KEY = manifestKey("C2C", "2024030117");

let dir: string;
let store: LocalArchiveStore;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "imvault-api-corrupt-"));
  store = createLocalStore({ root: dir, urlFor: (key) => `https://files.test/${key}` });
  await store.put(KEY, '{"version":1,"chatType":"C2C",');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** GET `path` with the ops key, the harness clock at 18:30 Beijing (the last ended hour is 2024030117). */
const call = (path: string) => apiHarness({ store }).call({ path, headers: AUTH });

describe("an hour whose manifest is corrupt", () => {
  it("is a `corrupt` row of GET /v1/status, counted in the totals", async () => {
    const res = await call("/v1/status?hours=2");

    expect(res.statusCode).toBe(200);
    const body = json(res);
    expect(body.rows).toContainEqual(
      expect.objectContaining({ msgTime: "2024030117", chatType: "C2C", status: "corrupt" }),
    );
    expect(body.totals).toMatchObject({ corrupt: 1, missing: 3 });
  });

  it("answers GET /v1/archive with 409 manifest_corrupt naming the key, never a 500", async () => {
    const res = await call("/v1/archive/C2C/2024030117");

    expect(res.statusCode).toBe(409);
    expect(json(res)).toEqual({
      error: {
        code: "manifest_corrupt",
        message: expect.stringContaining(`manifest ${KEY} is corrupt: not JSON`),
        details: { key: KEY, chatType: "C2C", msgTime: "2024030117" },
      },
    });
  });
});
