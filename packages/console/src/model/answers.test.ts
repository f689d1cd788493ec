import { describe, expect, it } from "vitest";
import {
  conversations,
  type MediaItem,
  mediaLookupPath,
  mediaMark,
  mediaState,
  messageOfRow,
  searchBody,
} from "./answers.ts";

describe("mediaMark", () => {
  it("marks an hour by its media counts, pending or corrupt, and nothing before it is archived", () => {
    expect(mediaMark(undefined)).toBeUndefined();
    expect(mediaMark({ captured: 2, missing: 0, refused: 0 })).toMatchObject({
      state: "captured",
      glyph: "●",
    });
    expect(mediaMark({ captured: 2, missing: 0, refused: 1 })).toMatchObject({ state: "some-missing" });
    expect(mediaMark({ captured: 0, missing: 0, refused: 0 })).toMatchObject({ state: "none", glyph: "" });
    expect(mediaMark("pending")).toMatchObject({ state: "pending", text: "media not captured yet" });
    expect(mediaMark("corrupt")).toMatchObject({ state: "corrupt" });
  });
});

describe("mediaState", () => {
  it("calls a captured item Tencent reported Status 1 banned; the others by their status", () => {
    const captured = { rawUrl: "u", status: "captured", key: "media/u", size: 1, sha256: "0" } as const;
    const items: MediaItem[] = [
      captured,
      { ...captured, tencentStatus: 0 },
      { ...captured, tencentStatus: 1 },
      { rawUrl: "u", status: "missing", tencentStatus: 2 },
      { rawUrl: "u", status: "refused", reason: "host" },
    ];

    expect(items.map(mediaState)).toEqual(["captured", "captured", "banned", "missing", "refused"]);
    expect(mediaLookupPath("https://c.myqcloud.com/a b.jpg?x=1")).toBe(
      "/v1/media?rawUrl=https%3A%2F%2Fc.myqcloud.com%2Fa%20b.jpg%3Fx%3D1",
    );
  });
});

describe("searches", () => {
  it("send only the filters that are set, trimmed", () => {
    expect(searchBody({ user: " ann ", text: "", peer: undefined, from: "2024030100" }, 500)).toEqual({
      user: "ann",
      from: "2024030100",
      limit: 500,
    });
  });

  it("read message-table rows as messages, grouped by conversation, each oldest first", () => {
    const row = (extra: Record<string, unknown>) => ({
      chat_type: "C2C",
      msg_time: "2024030116",
      msg_types: ["TIMTextElem"],
      media_urls: [],
      source_key: "raw/x.gz",
      ...extra,
    });
    const messages = [
      row({
        from_account: "bob",
        to_account: "ann",
        conversation: "ann|bob",
        msg_timestamp: 20,
        text: "hi ann",
        line: 3,
      }),
      row({
        from_account: "ann",
        to_account: "bob",
        conversation: "ann|bob",
        msg_timestamp: 10,
        text: "hi bob",
        line: 2,
      }),
      row({
        chat_type: "Group",
        from_account: "cy",
        group_id: "g1",
        conversation: "g1",
        msg_timestamp: 30,
        text: null,
        msg_types: ["TIMImageElem"],
        media_urls: ["https://c.myqcloud.com/a.jpg"],
        line: 4,
      }),
    ].map(messageOfRow);

    expect(messages[2]).toMatchObject({ ms: 30_000, text: "", mediaUrls: ["https://c.myqcloud.com/a.jpg"] });
    expect(conversations(messages).map((c) => [c.title, c.messages.map((m) => m.from)])).toEqual([
      ["Group g1", ["cy"]],
      ["C2C ann ↔ bob", ["ann", "bob"]],
    ]);
    expect(new Set(messages.map((m) => m.id)).size).toBe(3);
  });
});
