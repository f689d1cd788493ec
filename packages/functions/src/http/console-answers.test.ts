/**
 * The console's readers (@imvault/console/answers) against what this API really answers: im-core's
 * answer types must be assignable to the console's (tsc fails otherwise), and the real handler's
 * answers, read by the console's readers, say what the fixture holds.
 */
import type * as Console from "@imvault/console/answers";
import { mediaMark, mediaState, messageOfRow } from "@imvault/console/answers";
import type {
  ArchivedHourView,
  BannedMedia,
  LocalArchiveStore,
  MediaLookup,
  MessageRow,
  RecentCoverage,
  SearchPage,
} from "@imvault/im-core";
import { describe, expect, it } from "vitest";
import {
  AUTH,
  apiHarness,
  json,
  MEDIA_URL,
  MISSING_MEDIA_URL,
  useArchiveFixture,
} from "../../testing/api-harness.ts";

// Compile-time: every answer the console reads is one of the API's answers (the reverse need not hold).
type Assignable<From extends To, To> = [From, To];
export type Contract = [
  Assignable<RecentCoverage, Console.StatusAnswer>,
  Assignable<ArchivedHourView, Console.ArchiveView>,
  Assignable<MediaLookup, Console.MediaLookup>,
  Assignable<BannedMedia, Console.BannedMedia>,
  Assignable<SearchPage, Console.SearchPage>,
];

let store: LocalArchiveStore;
useArchiveFixture((fixture) => {
  ({ store } = fixture);
});

describe("the console's readers on this API's answers", () => {
  it("mark the hours of /v1/status by their media, and read the chain's records", async () => {
    const { call } = apiHarness({ store });

    const status = json(await call({ path: "/v1/status?hours=3", headers: AUTH })) as Console.StatusAnswer;
    const marks = Object.fromEntries(
      status.rows.map((r) => [`${r.chatType}:${r.msgTime}`, mediaMark(r.media)?.state]),
    );

    expect(marks).toMatchObject({ "C2C:2024030116": "some-missing", "Group:2024030117": "pending" });
    expect(marks["C2C:2024030117"]).toBeUndefined();
    expect(status.evidence).toEqual({ head: null, lastVerified: null });
  });

  it("read an hour's media as banned and missing, and the banned listing names the same object", async () => {
    const { call } = apiHarness({ store });

    const hour = json(
      await call({ path: "/v1/archive/C2C/2024030116", headers: AUTH }),
    ) as Console.ArchiveView;
    const banned = json(await call({ path: "/v1/media/banned", headers: AUTH })) as Console.BannedMedia;
    const lookup = json(
      await call({ path: `/v1/media?rawUrl=${encodeURIComponent(MEDIA_URL)}`, headers: AUTH }),
    ) as Console.MediaLookup;

    expect(
      hour.media === "pending" || hour.media === "corrupt" ? [] : hour.media.items.map(mediaState),
    ).toEqual(["banned", "missing"]);
    expect(banned.items.map((i) => i.rawUrl)).toEqual([MEDIA_URL]);
    expect(banned.items).not.toContainEqual(expect.objectContaining({ rawUrl: MISSING_MEDIA_URL }));
    expect([lookup.tencentStatus, lookup.url]).toEqual([
      1,
      expect.stringMatching(/^https:\/\/files\.test\/media\//),
    ]);
  });

  it("read a message-table row (im-core's MessageRow) as a message", () => {
    const row: MessageRow = {
      chat_type: "C2C",
      msg_time: "2024030116",
      dt: "2024-03-01",
      hour: "16",
      msg_timestamp: 1_709_280_000,
      ts: 1_709_280_000_000,
      from_account: "ann",
      to_account: "bob",
      group_id: null,
      conversation: "ann|bob",
      msg_seq: 7,
      msg_random: 1,
      msg_types: ["TIMTextElem", "TIMImageElem"],
      text: "look",
      media_urls: [MEDIA_URL],
      raw: "{}",
      source_key: "raw/a.gz",
      line: 2,
    };

    expect(messageOfRow({ ...row })).toEqual({
      chatType: "C2C",
      msgTime: "2024030116",
      conversation: "ann|bob",
      from: "ann",
      to: "bob",
      ms: 1_709_280_000_000,
      seq: 7,
      text: "look",
      types: ["TIMTextElem", "TIMImageElem"],
      mediaUrls: [MEDIA_URL],
      id: "raw/a.gz#2",
    });
  });
});
