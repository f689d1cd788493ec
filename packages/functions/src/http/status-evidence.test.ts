import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createLocalStore,
  type LocalArchiveStore,
  localSigner,
  sealDigest,
  systemClock,
  verificationRecords,
} from "@imvault/im-core";
import { writeArchivedHour } from "@imvault/im-core/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { apiHarness, json, OPS_TOKEN } from "../../testing/api-harness.ts";

/** GET /v1/status shows the chain of digests: its head and the last verification. */

const AUTH = { authorization: `Bearer ${OPS_TOKEN}` };

let dir: string;
let store: LocalArchiveStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "imvault-api-evidence-"));
  store = createLocalStore({ root: dir });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function status(): Promise<Record<string, unknown>> {
  const answer = await apiHarness({ store }).call({ path: "/v1/status", headers: AUTH });
  expect(answer.statusCode).toBe(200);
  return json(answer);
}

describe("GET /v1/status: evidence", () => {
  it("says there is no digest and no verification yet on a fresh archive", async () => {
    expect((await status()).evidence).toEqual({ head: null, lastVerified: null });
  });

  it("names the head digest and the last verification once there are", async () => {
    await writeArchivedHour(store, "C2C", "2024030116");
    const sealed = await sealDigest({ store, signer: await localSigner(dir), clock: systemClock });
    await verificationRecords(store).write({
      version: 1,
      verifiedAt: "2024-03-01T10:00:00.000Z",
      ok: false,
      head: null,
      digests: { valid: 0, total: 1 },
      objects: { valid: 0, total: 0 },
      summary: "0/1 digest files valid, 1/1 digest files INVALID",
    });

    const { evidence } = (await status()) as { evidence: Record<string, unknown> };

    expect(evidence.head).toMatchObject({ key: sealed.key, seq: 1 });
    expect(evidence.lastVerified).toEqual({
      at: "2024-03-01T10:00:00.000Z",
      ok: false,
      headKey: null,
      summary: "0/1 digest files valid, 1/1 digest files INVALID",
    });
  });
});
