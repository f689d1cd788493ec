import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { manifestKey, rawKey } from "../archive/layout.ts";
import { writeManifest } from "../archive/manifest.ts";
import { LegalHoldError, ValidationError } from "../errors.ts";
import type { ChatType } from "../im/types.ts";
import { mediaKey, mediaManifestKey } from "../media/layout.ts";
import { createLocalStore, type LocalArchiveStore } from "../store/local-store.ts";
import { MessageTable } from "../table/duckdb.ts";
import { indexHour, TABLE_PREFIX, tableKeyOf } from "../table/index-hour.ts";
import type { MsgTime } from "../time/msgtime.ts";
import { holdRecords, placeHold, releaseHold } from "./holds.ts";
import type { FindMessages } from "./holds-by-messages.ts";

/** Holds by user or group, resolved through a real message table (indexed hours, DuckDB over them). */

let root: string;
let store: LocalArchiveStore;
let table: MessageTable;
const NOW = Date.parse("2024-05-02T03:15:00.000Z");
const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");
const IMAGE = "https://cos.ap-shanghai.myqcloud.com/1400000000/img/alice-cat.jpg";
const OTHER_IMAGE = "https://cos.ap-shanghai.myqcloud.com/1400000000/img/bob-dog.jpg";

type Message = { From_Account: string; To_Account?: string; GroupId?: string; image?: string };

/** An hour archived and indexed as imvault leaves it: its raw file, manifest and table file. */
async function archivedHour(chatType: ChatType, msgTime: MsgTime, messages: Message[]): Promise<string> {
  const lines = messages.map(({ image, ...m }, i) =>
    JSON.stringify({
      ...m,
      MsgTimestamp: 1_714_500_000 + i,
      MsgSeq: i,
      MsgRandom: i,
      MsgBody: image
        ? [{ MsgType: "TIMImageElem", MsgContent: { ImageInfoArray: [{ Type: 1, URL: image }] } }]
        : [{ MsgType: "TIMTextElem", MsgContent: { Text: `hello ${i}` } }],
    }),
  );
  const plain = Buffer.from(
    `{"SdkAppId":1400000000,"ChatType":"${chatType}","MsgTime":"${msgTime}","MsgList":[\n${lines.join(",\n")}\n]}\n`,
  );
  const gz = gzipSync(plain);
  const key = rawKey(chatType, msgTime, `${msgTime}.gz`);
  await store.put(key, gz, { ifNoneMatch: true });
  await writeManifest(store, {
    version: 1,
    chatType,
    msgTime,
    status: "archived",
    files: [
      {
        key,
        sourceUrl: `https://x.tim.qq.com/${msgTime}.gz`,
        gzipSize: gz.length,
        gzipMd5: md5(gz),
        fileSize: plain.length,
        fileMd5: md5(plain),
        messageCount: messages.length,
      },
    ],
    archivedAt: new Date(NOW).toISOString(),
  });
  expect((await indexHour({ chatType, msgTime }, { store })).outcome).toBe("indexed");
  return key;
}

/** The hour's media capture: both images stored, the media manifest naming them. */
async function capturedMedia(chatType: ChatType, msgTime: MsgTime, urls: string[]): Promise<void> {
  const items = [];
  for (const rawUrl of urls) {
    const bytes = Buffer.from(`bytes of ${rawUrl}`);
    await store.put(mediaKey(rawUrl), bytes);
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    items.push({ rawUrl, status: "captured", key: mediaKey(rawUrl), size: bytes.length, sha256 });
  }
  const manifest = { version: 1, chatType, msgTime, items, capturedAt: new Date(NOW).toISOString() };
  await store.put(mediaManifestKey(chatType, msgTime), JSON.stringify(manifest));
}

const findMessages: FindMessages = async function* (statement) {
  yield* (await table.query(statement)).batches;
};

let keys: Record<string, string>;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "imvault-holds-by-"));
  store = createLocalStore({ root });
  keys = {
    c2c01: await archivedHour("C2C", "2024050101", [
      { From_Account: "alice", To_Account: "bob", image: IMAGE },
      { From_Account: "bob", To_Account: "carol", image: OTHER_IMAGE },
    ]),
    c2c02: await archivedHour("C2C", "2024050102", [{ From_Account: "carol", To_Account: "alice" }]),
    c2c03: await archivedHour("C2C", "2024050103", [{ From_Account: "bob", To_Account: "carol" }]),
    group02: await archivedHour("Group", "2024050102", [
      { From_Account: "dave", GroupId: "@TGS#team" },
      { From_Account: "alice", GroupId: "@TGS#other" },
    ]),
  };
  await capturedMedia("C2C", "2024050101", [IMAGE, OTHER_IMAGE]);
  table = await MessageTable.open(join(root, TABLE_PREFIX));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("legal holds by user or group", () => {
  it("holds what holds a user's messages, sent or received, in every chat type: raw files, table files, manifests, their media", async () => {
    const record = await placeHold(
      store,
      { kind: "user", user: "alice", chatTypes: ["C2C", "Group"] },
      { reason: "case 9", now: NOW },
      { findMessages },
    );

    const hourKeys = (chatType: ChatType, msgTime: MsgTime, raw: string) => [
      raw,
      tableKeyOf(raw),
      manifestKey(chatType, msgTime),
    ];
    expect(record.keys).toEqual(
      [
        ...hourKeys("C2C", "2024050101", keys.c2c01!),
        ...hourKeys("C2C", "2024050102", keys.c2c02!),
        ...hourKeys("Group", "2024050102", keys.group02!),
        mediaManifestKey("C2C", "2024050101"),
        mediaKey(IMAGE),
      ].sort(),
    );
    for (const key of record.keys) expect(await store.legalHold(key)).toBe(true);
    // Another user's image in the same hour, and an hour without alice, stay free.
    expect(await store.legalHold(mediaKey(OTHER_IMAGE))).toBe(false);
    expect(await store.legalHold(keys.c2c03!)).toBe(false);
    await expect(store.delete(keys.c2c02!)).rejects.toBeInstanceOf(LegalHoldError);
    expect((await holdRecords(store)).map((r) => r.scope)).toEqual([
      { kind: "user", user: "alice", chatTypes: ["C2C", "Group"] },
    ]);
  });

  it("keeps to the window and chat types given with the user", async () => {
    const record = await placeHold(
      store,
      { kind: "user", user: "alice", from: "2024050102", to: "2024050102", chatTypes: ["C2C"] },
      { now: NOW },
      { findMessages },
    );

    expect(record.keys).toEqual(
      [keys.c2c02!, tableKeyOf(keys.c2c02!), manifestKey("C2C", "2024050102")].sort(),
    );
  });

  it("holds a group's messages only, and releases them recorded like a window's hold", async () => {
    const record = await placeHold(
      store,
      { kind: "group", group: "@TGS#team" },
      { now: NOW },
      { findMessages },
    );

    expect(record.keys).toEqual(
      [keys.group02!, tableKeyOf(keys.group02!), manifestKey("Group", "2024050102")].sort(),
    );
    await releaseHold(store, record.id, { now: NOW + 1000 });
    for (const key of record.keys) expect(await store.legalHold(key)).toBe(false);
    expect((await holdRecords(store)).map((r) => r.action)).toEqual(["place", "release"]);
  });

  it("places nothing for a user with no messages, and needs the table to hold by user at all", async () => {
    await expect(
      placeHold(store, { kind: "user", user: "nobody", chatTypes: ["C2C"] }, { now: NOW }, { findMessages }),
    ).rejects.toThrow(/nothing is archived of that user/);
    await expect(
      placeHold(store, { kind: "group", group: "@TGS#team" }, { now: NOW }),
    ).rejects.toBeInstanceOf(ValidationError);
    expect(await holdRecords(store)).toEqual([]);
  });
});
