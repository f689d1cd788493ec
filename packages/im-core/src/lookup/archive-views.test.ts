import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../testing/im.ts";
import type { Manifest } from "../archive/manifest.ts";
import { writeManifest } from "../archive/manifest.ts";
import { NotFoundError, ValidationError } from "../errors.ts";
import { createLocalStore, type LocalArchiveStore } from "../store/local-store.ts";
import { archivedHour, MAX_STATUS_HOURS, parseStatusHours, recentCoverage } from "./archive-views.ts";

const MD5 = "0123456789abcdef0123456789abcdef";
// 2024-03-01T10:30Z = 18:30 Beijing: the last ended hour is 2024030117.
const clock = new FakeClock(Date.parse("2024-03-01T10:30:00Z"));

function manifest(msgTime: string, status: Manifest["status"], files: string[]): Manifest {
  return {
    version: 1,
    chatType: "C2C",
    msgTime,
    status,
    files: files.map((name) => ({
      key: `raw/chat_type=C2C/dt=2024-03-01/hour=${msgTime.slice(8)}/${name}`,
      sourceUrl: `https://download.tim.qq.com/${name}`,
      gzipSize: 100,
      gzipMd5: MD5,
      fileSize: 300,
      fileMd5: MD5,
      messageCount: 7,
    })),
    archivedAt: "2024-03-01T09:10:00.000Z",
  };
}

describe("archive views", () => {
  let dir: string;
  let store: LocalArchiveStore;
  const signed: [string, number][] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "imvault-views-"));
    store = createLocalStore({
      root: dir,
      urlFor: (key, ttl) => {
        signed.push([key, ttl]);
        return `http://127.0.0.1:3000/files/${key}?expires=${ttl}`;
      },
    });
    signed.length = 0;
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("answers an archived hour's manifest with one short-lived download URL per file", async () => {
    await writeManifest(store, manifest("2024030116", "archived", ["a.gz", "b.gz"]));
    const view = await archivedHour({ store, clock }, "C2C", "2024030116", 300);
    expect(view.manifest.files).toHaveLength(2);
    expect(view.downloads).toEqual([
      {
        key: "raw/chat_type=C2C/dt=2024-03-01/hour=16/a.gz",
        url: "http://127.0.0.1:3000/files/raw/chat_type=C2C/dt=2024-03-01/hour=16/a.gz?expires=300",
        expiresAt: "2024-03-01T10:35:00.000Z",
      },
      {
        key: "raw/chat_type=C2C/dt=2024-03-01/hour=16/b.gz",
        url: "http://127.0.0.1:3000/files/raw/chat_type=C2C/dt=2024-03-01/hour=16/b.gz?expires=300",
        expiresAt: "2024-03-01T10:35:00.000Z",
      },
    ]);
    expect(signed.map(([, ttl]) => ttl)).toEqual([300, 300]);
  });

  it("answers an expired hour's manifest with no downloads", async () => {
    await writeManifest(store, manifest("2024030115", "expired", []));
    const view = await archivedHour({ store, clock }, "C2C", "2024030115");
    expect([view.manifest.status, view.downloads]).toEqual(["expired", []]);
  });

  it("throws NotFoundError naming the hour and chat type when there is no manifest", async () => {
    const lookup = archivedHour({ store, clock }, "Group", "2024030116");
    await expect(lookup).rejects.toBeInstanceOf(NotFoundError);
    await expect(lookup).rejects.toThrow(/hour 2024030116 .*of Group is not archived/);
  });

  it.each([
    ["chatType", "Private", "2024030116", /chatType "Private" is not one of C2C, Group/],
    ["msgTime", "C2C", "202403011", /not 10 digits/],
    ["msgTime", "C2C", "2024023012", /day 30 does not exist/],
    ["msgTime", "C2C", "2024030124", /hour 24/],
  ])("rejects a bad %s (%s/%s) with a ValidationError", async (_what, chatType, msgTime, reason) => {
    const lookup = archivedHour({ store, clock }, chatType, msgTime);
    await expect(lookup).rejects.toBeInstanceOf(ValidationError);
    await expect(lookup).rejects.toThrow(reason);
  });

  it("takes the chat type in any letter case, as the CLI does, and answers Tencent's spelling", async () => {
    await writeManifest(store, manifest("2024030116", "archived", ["a.gz"]));
    const lower = await archivedHour({ store, clock }, "c2c", "2024030116");
    const upper = await archivedHour({ store, clock }, "C2C", "2024030116");
    expect(lower.manifest.chatType).toBe("C2C");
    expect(lower).toEqual(upper);
  });

  it("reports the coverage of the last N ended hours, archived and missing", async () => {
    await writeManifest(store, manifest("2024030117", "archived", ["a.gz"]));
    const table = await recentCoverage({ store, clock }, 2);
    expect([table.hours, table.from, table.to]).toEqual([2, "2024030116", "2024030117"]);
    expect(table.totals).toEqual({ archived: 1, empty: 0, expired: 0, missing: 3 });
    expect(table.rows.find((r) => r.msgTime === "2024030117" && r.chatType === "C2C")).toMatchObject({
      status: "archived",
      files: 1,
      bytes: 100,
      messages: 7,
    });
  });
});

describe("parseStatusHours", () => {
  it("uses the fallback when no hours are given, and takes 1 and the maximum", () => {
    expect(parseStatusHours(undefined, 72)).toBe(72);
    expect(parseStatusHours("1", 72)).toBe(1);
    expect(parseStatusHours(String(MAX_STATUS_HOURS), 72)).toBe(744);
  });

  it.each(["0", "745", "-1", "1.5", "abc", "", "1e2", " 3"])("rejects hours=%j", (text) => {
    expect(() => parseStatusHours(text, 72)).toThrow(ValidationError);
  });
});
