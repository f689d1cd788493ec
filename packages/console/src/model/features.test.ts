import { describe, expect, it } from "vitest";
import {
  conversations,
  readChain,
  readHourMedia,
  readMediaSummary,
  readSearch,
  searchRequest,
} from "./features.ts";

describe("readers of the routes other engineers are adding", () => {
  it("read nothing from today's answers (the screens then say 'not available yet')", () => {
    const status = {
      hours: 1,
      from: "2024030100",
      to: "2024030100",
      rows: [{ msgTime: "2024030100" }],
      totals: {},
    };
    const archive = { manifest: {}, downloads: [] };

    expect(readMediaSummary(status.rows[0])).toBeUndefined();
    expect(readHourMedia(archive)).toBeUndefined();
    expect(readChain(status)).toBeUndefined();
  });

  it("read an hour's media items: banned among the captured, with their short-lived URLs", () => {
    const view = {
      media: {
        manifest: {
          items: [
            {
              rawUrl: "https://c.myqcloud.com/a.jpg",
              status: "captured",
              tencentStatus: 1,
              key: "media/a",
              size: 9,
            },
            {
              rawUrl: "https://c.myqcloud.com/b.mp4",
              status: "captured",
              tencentStatus: 0,
              key: "media/b",
              size: 5,
            },
            { rawUrl: "https://c.myqcloud.com/c.png", status: "missing", tencentStatus: 2 },
            { rawUrl: "https://x.example/d", status: "refused", reason: "host" },
          ],
        },
        downloads: [{ rawUrl: "https://c.myqcloud.com/a.jpg", url: "https://s3/a?sig" }],
      },
    };

    expect(readHourMedia(view)).toEqual([
      { rawUrl: "https://c.myqcloud.com/a.jpg", state: "banned", size: 9, url: "https://s3/a?sig" },
      { rawUrl: "https://c.myqcloud.com/b.mp4", state: "captured", size: 5 },
      { rawUrl: "https://c.myqcloud.com/c.png", state: "missing" },
      { rawUrl: "https://x.example/d", state: "refused", reason: "host" },
    ]);
  });

  it("read the digest chain's head and last verification", () => {
    const status = {
      digests: {
        head: { key: "digests/0042.json", sha256: "ab".repeat(32), signedAt: "2024-03-01T10:00:00Z" },
        count: 42,
        lastVerification: { at: "2024-03-01T10:05:00Z", ok: true, checked: 42 },
      },
    };

    expect(readChain(status)).toEqual({
      head: { key: "digests/0042.json", sha256: "ab".repeat(32), signedAt: "2024-03-01T10:00:00Z" },
      length: 42,
      lastVerification: { at: "2024-03-01T10:05:00Z", ok: true, checked: 42 },
    });
  });

  it("send only the filters that are set, and read a search's messages as conversations", () => {
    const search = readSearch({
      id: "s1",
      status: "succeeded",
      messages: [
        {
          from_account: "bob",
          to_account: "ann",
          msg_timestamp: 20,
          text: "hi ann",
          conversation: "ann|bob",
        },
        {
          from_account: "ann",
          to_account: "bob",
          msg_timestamp: 10,
          text: "hi bob",
          conversation: "ann|bob",
        },
        { fromAccount: "cy", groupId: "g1", msgTimestamp: 30, text: "hello group" },
        { text: "no sender: skipped" },
      ],
    });

    // Only the API's filters go to it: the chat type is applied to the rows.
    expect(searchRequest({ user: " ann ", text: "", chatType: "C2C", from: "2024050100" })).toEqual({
      user: "ann",
      from: "2024050100",
    });
    expect(search).toMatchObject({ id: "s1", state: "succeeded", truncated: false });
    expect(conversations(search.messages).map((c) => [c.name, c.messages.map((m) => m.text)])).toEqual([
      ["group:g1", ["hello group"]],
      ["ann|bob", ["hi bob", "hi ann"]],
    ]);
    expect(readSearch({ id: "s2", status: "running" }).state).toBe("running");
    expect(readSearch({ state: "succeeded", rows: [], nextCursor: "c1" }).truncated).toBe(true);
    expect(readSearch({ state: "succeeded", rows: [], nextCursor: null }).truncated).toBe(false);
  });
});
