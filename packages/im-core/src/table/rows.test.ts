import { describe, expect, it } from "vitest";
import { c2cConversation, fileRowFields, MESSAGE_COLUMNS, messageRow, tsMillis } from "./rows.ts";

const c2cFile = fileRowFields({
  chatType: "C2C",
  msgTime: "2015120121",
  sourceKey: "raw/chat_type=C2C/dt=2015-12-01/hour=21/a.gz",
});
const groupFile = fileRowFields({
  chatType: "Group",
  msgTime: "2015120121",
  sourceKey: "raw/chat_type=Group/dt=2015-12-01/hour=21/g.gz",
});

describe("messageRow", () => {
  it("fills every column of a C2C message, the instant in UTC, text and media from MsgBody", () => {
    const raw =
      '{"From_Account":"u42","To_Account":"u07","MsgTimestamp":1448974806,"MsgSeq":4294967296,"MsgRandom":3000000000,' +
      '"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"今天天气真好"}},{"MsgType":"TIMImageElem","MsgContent":{"ImageInfoArray":[{"URL":"https://cos.myqcloud.com/a.jpg"}]}},' +
      '{"MsgType":"TIMTextElem","MsgContent":{"Text":"こんにちは 안녕"}}]}';

    const row = messageRow(c2cFile, JSON.parse(raw), raw, 7);

    expect(Object.keys(row)).toEqual([...MESSAGE_COLUMNS]);
    expect(row).toEqual({
      chat_type: "C2C",
      msg_time: "2015120121",
      dt: "2015-12-01",
      hour: "21",
      msg_timestamp: 1448974806,
      ts: Date.parse("2015-12-01T13:00:06Z"),
      from_account: "u42",
      to_account: "u07",
      group_id: null,
      conversation: "u07|u42",
      msg_seq: 4294967296,
      msg_random: 3000000000,
      msg_types: ["TIMTextElem", "TIMImageElem", "TIMTextElem"],
      text: "今天天气真好\nこんにちは 안녕",
      media_urls: ["https://cos.myqcloud.com/a.jpg"],
      raw,
      source_key: "raw/chat_type=C2C/dt=2015-12-01/hour=21/a.gz",
      line: 7,
    });
  });

  it("keys a Group message's conversation by its group and leaves to_account null", () => {
    const raw = '{"From_Account":"u1","GroupId":"@TGS#1","MsgTimestamp":1448974806,"MsgSeq":9,"MsgBody":[]}';

    const row = messageRow(groupFile, JSON.parse(raw), raw, 2);

    expect(row).toMatchObject({
      chat_type: "Group",
      group_id: "@TGS#1",
      to_account: null,
      conversation: "@TGS#1",
    });
    expect(row).toMatchObject({ msg_random: null, msg_types: [], text: null, media_urls: [] });
  });

  it("keeps unknown fields and odd values in raw only: nothing is dropped, nothing throws", () => {
    const raw =
      '{"From_Account":7,"MsgTimestamp":"soon","MsgSeq":1.5,"NewField":{"x":[1]},"MsgBody":[{"MsgType":"TIMNewElem","MsgContent":{"Y":1}},null,{"MsgContent":{}}]}';

    const row = messageRow(c2cFile, JSON.parse(raw), raw, 3);

    expect(row).toMatchObject({
      from_account: null,
      msg_timestamp: null,
      ts: null,
      msg_seq: null,
      conversation: null,
    });
    expect(row.msg_types).toEqual(["TIMNewElem"]);
    expect(JSON.parse(row.raw).NewField).toEqual({ x: [1] });
  });

  it("gives both sides of a one-to-one chat the same conversation key", () => {
    expect(c2cConversation("b", "a")).toBe(c2cConversation("a", "b"));
    expect(c2cConversation("a", "b")).toBe("a|b");
  });
});

describe("tsMillis", () => {
  it("keeps the instants of years 1 to 9999 and leaves the rest (and no number) to msg_timestamp and raw", () => {
    expect(tsMillis(1448974806)).toBe(1448974806000);
    expect(tsMillis(253402300799)).toBe(253402300799000); // 9999-12-31T23:59:59Z
    expect(tsMillis(-62135596800)).toBe(-62135596800000); // 0001-01-01T00:00:00Z
    expect(tsMillis(253402300800)).toBeNull();
    expect(tsMillis(-62135596801)).toBeNull();
    expect(tsMillis(1234567890123456)).toBeNull();
    expect(tsMillis(null)).toBeNull();
  });
});
