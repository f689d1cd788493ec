import { describe, expect, it } from "vitest";
import { EXPORT_LIMITS } from "../schemas/limits.ts";
import { hourEnd } from "../time/msgtime.ts";
import type { ArchiveStore, PutOptions } from "./port.ts";
import { retainUntilFor, withRetention } from "./retention.ts";

const DAY = 86_400_000;
const NOW = hourEnd("2027050110") + 20 * 60_000; // 20 minutes into Beijing hour 11

describe("retention of what imvault puts", () => {
  it("locks an hour's objects until the hour's end plus the days, whatever their kind", () => {
    for (const key of [
      "raw/chat_type=C2C/dt=2027-05-01/hour=08/x.gz",
      "manifests/chat_type=C2C/dt=2027-05-01/hour=08.json",
      "media-manifests/chat_type=Group/dt=2027-05-01/hour=08.json",
      "tables/messages/chat_type=C2C/dt=2027-05-01/hour=08/part-0.parquet",
      "manifests-corrupt/chat_type=C2C/dt=2027-05-01/hour=08.json.ab12",
    ]) {
      expect(retainUntilFor(key, 30, NOW), key).toEqual(new Date(hourEnd("2027050108") + 30 * DAY));
    }
  });

  it("locks media files, digests and holds from the current hour's end, and state objects a day", () => {
    const current = hourEnd("2027050111");

    expect(retainUntilFor("media/cos.example.com/a.jpg", 30, NOW)).toEqual(new Date(current + 30 * DAY));
    expect(retainUntilFor("digests/000000000007.json", 30, NOW)).toEqual(new Date(current + 30 * DAY));
    expect(retainUntilFor("digests-state/head.json", 30, NOW)).toEqual(new Date(current + DAY));
    expect(retainUntilFor("digests-verified/last.json", 30, NOW)).toEqual(new Date(current + DAY));
  });

  it("locks an export made through the API only as long as the lifecycle keeps it, not the archive's retention", () => {
    const current = hourEnd("2027050111");

    for (const file of ["request.json", "export.zip", "status.json"]) {
      expect(retainUntilFor(`exports/0f3c9a/${file}`, 1095, NOW)).toEqual(
        new Date(current + EXPORT_LIMITS.keepDays * DAY),
      );
    }
  });

  it("leaves an hour already past its retention to the bucket's default", () => {
    expect(retainUntilFor("manifests/chat_type=C2C/dt=2027-04-01/hour=08.json", 1, NOW)).toBeUndefined();
  });

  it("withRetention adds the date to each put, and keeps one the caller gave", async () => {
    const puts: [string, PutOptions | undefined][] = [];
    const store = withRetention(
      {
        put: async (key, _body, options) => {
          puts.push([key, options]);
          return { size: 0 };
        },
      } as ArchiveStore,
      30,
      () => NOW,
    );
    const own = new Date("2030-01-01T00:00:00.000Z");

    await store.put("manifests/chat_type=C2C/dt=2027-05-01/hour=08.json", "{}", { ifNoneMatch: true });
    await store.put("digests/000000000001.json", "{}", { retainUntil: own });

    expect(puts).toEqual([
      [
        "manifests/chat_type=C2C/dt=2027-05-01/hour=08.json",
        { ifNoneMatch: true, retainUntil: new Date(hourEnd("2027050108") + 30 * DAY) },
      ],
      ["digests/000000000001.json", { retainUntil: own }],
    ]);
  });
});
