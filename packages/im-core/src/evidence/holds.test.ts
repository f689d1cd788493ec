import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeArchivedHour } from "../../testing/evidence.ts";
import { LegalHoldError, NotFoundError, ValidationError } from "../errors.ts";
import { createLocalStore, type LocalArchiveStore } from "../store/local-store.ts";
import { systemClock } from "../util/clock.ts";
import { readDigest } from "./digest-file.ts";
import { holdKey, listHolds, placeHold, releaseHold } from "./holds.ts";
import { digestKey } from "./layout.ts";
import { localSigner } from "./local-signer.ts";
import { sealDigest } from "./seal.ts";

let root: string;
let store: LocalArchiveStore;
const NOW = Date.parse("2024-05-02T03:15:00.000Z");
const window = (from: string, to: string) => ({
  kind: "window" as const,
  from,
  to,
  chatTypes: ["C2C" as const],
});

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "imvault-holds-"));
  store = createLocalStore({ root });
  for (const hour of ["2024050101", "2024050102", "2024050103"]) await writeArchivedHour(store, "C2C", hour);
  await writeArchivedHour(store, "Group", "2024050102");
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("legal holds", () => {
  it("holds each manifest and raw file of the window and chat type, and nothing else", async () => {
    const record = await placeHold(store, window("2024050101", "2024050102"), { reason: "case 7", now: NOW });

    expect(record.id).toMatch(/^20240502T031500Z-[0-9a-f]{6}$/);
    expect(record.keys).toHaveLength(4); // 2 manifests + their raw files
    for (const key of record.keys) expect(await store.legalHold(key)).toBe(true);
    expect(await store.legalHold("manifests/chat_type=C2C/dt=2024-05-01/hour=03.json")).toBe(false);
    expect(await store.legalHold("manifests/chat_type=Group/dt=2024-05-01/hour=02.json")).toBe(false);
    await expect(store.delete(record.keys[0]!)).rejects.toBeInstanceOf(LegalHoldError);
  });

  it("records each hold as an object under holds/, which the next digest seals", async () => {
    const record = await placeHold(store, window("2024050101", "2024050101"), { now: NOW });

    await sealDigest({ store, signer: await localSigner(root), clock: systemClock });

    const sealed = (await readDigest(store, digestKey(1)))?.digest?.objects.map((o) => o.key);
    expect(sealed).toContain(holdKey(record.id, "place"));
  });

  it("releases only what no other hold keeps, records the release, and lists both holds", async () => {
    const wide = await placeHold(store, window("2024050101", "2024050103"), { now: NOW });
    const narrow = await placeHold(store, window("2024050103", "2024050103"), { now: NOW + 1000 });

    const { record, keptByOthers } = await releaseHold(store, wide.id, {
      reason: "settled",
      now: NOW + 2000,
    });

    expect(keptByOthers).toBe(narrow.keys.length);
    for (const key of narrow.keys) expect(await store.legalHold(key)).toBe(true);
    for (const key of record.keys) expect(await store.legalHold(key)).toBe(false);
    expect(record.keys).toHaveLength(wide.keys.length - narrow.keys.length);
    expect(await listHolds(store)).toEqual([
      {
        id: wide.id,
        scope: wide.scope,
        placedAt: wide.at,
        keys: 6,
        releasedAt: new Date(NOW + 2000).toISOString(),
      },
      { id: narrow.id, scope: narrow.scope, placedAt: narrow.at, keys: 2 },
    ]);
  });

  it("refuses to release a hold twice or one that does not exist, and to hold a window with nothing", async () => {
    const hold = await placeHold(store, window("2024050101", "2024050101"), { now: NOW });
    await releaseHold(store, hold.id, { now: NOW });

    await expect(releaseHold(store, hold.id, { now: NOW })).rejects.toBeInstanceOf(ValidationError);
    await expect(releaseHold(store, "20240101T000000Z-abcdef", { now: NOW })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(placeHold(store, window("2023010100", "2023010101"), { now: NOW })).rejects.toThrow(
      /nothing is archived in that window/,
    );
  });
});
