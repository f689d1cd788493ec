import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeTableFile } from "../../testing/table.ts";
import type { ChatType } from "../im/types.ts";
import { MessageTable, tableFiles } from "./duckdb.ts";
import { buildSearchSql, type MessageSearch } from "./search-sql.ts";

/** Files of several hours (across a day), both chat types, and three raw files in one hour. */
const FILES: { chatType: ChatType; msgTime: string; name: string; messages: number }[] = [
  { chatType: "Group", msgTime: "2015120200", name: "g.gz", messages: 40 },
  { chatType: "C2C", msgTime: "2015120123", name: "c_2.gz", messages: 300 },
  { chatType: "C2C", msgTime: "2015120200", name: "c.gz", messages: 20 },
  { chatType: "C2C", msgTime: "2015120123", name: "c_10.gz", messages: 30 },
  { chatType: "Group", msgTime: "2015120123", name: "g.gz", messages: 250 },
  { chatType: "C2C", msgTime: "2015120123", name: "c_1.gz", messages: 10 },
];

function history(chatType: ChatType, msgTime: string, messages: number): Buffer {
  const lines = [`{"SdkAppId":1400000001,"ChatType":"${chatType}","MsgTime":"${msgTime}","MsgList":[`];
  for (let i = 0; i < messages; i++) {
    const peer = chatType === "C2C" ? { To_Account: `u${(i + 1) % 5}` } : { GroupId: "@TGS#1" };
    const text = i % 4 === 0 ? `今天天气 ${i}` : `你好 ${i}`;
    const message = JSON.stringify({
      From_Account: `u${i % 5}`,
      ...peer,
      MsgTimestamp: 1448974800 + i,
      MsgSeq: i,
      MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: text } }],
    });
    lines.push(i < messages - 1 ? `${message},` : message);
  }
  lines.push("]}");
  return gzipSync(`${lines.join("\n")}\n`);
}

describe("the messages view's order", () => {
  let dir: string;
  let table: MessageTable;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "imvault-table-order-"));
    for (const f of FILES) {
      // Several row groups a file, so that DuckDB's threads read one file in parts.
      await writeTableFile(dir, f, history(f.chatType, f.msgTime, f.messages), {
        rowGroupRows: 64,
        pageBytes: 1024,
      });
    }
    table = await MessageTable.open(dir);
  });

  afterAll(async () => {
    table?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const texts = async (search: MessageSearch, inTableOrder: boolean) => {
    const batches = await table.queryBytes(buildSearchSql(search, { as: "json", inTableOrder }));
    const out: string[] = [];
    for await (const batch of batches) for (const row of batch) out.push(Buffer.from(row).toString("utf8"));
    return out;
  };

  it("lists the files by hour, chat type, then raw file key", async () => {
    expect(tableFiles(dir)).toEqual([
      "chat_type=C2C/dt=2015-12-01/hour=23/c_1.gz.parquet",
      "chat_type=C2C/dt=2015-12-01/hour=23/c_10.gz.parquet",
      "chat_type=C2C/dt=2015-12-01/hour=23/c_2.gz.parquet",
      "chat_type=Group/dt=2015-12-01/hour=23/g.gz.parquet",
      "chat_type=C2C/dt=2015-12-02/hour=00/c.gz.parquet",
      "chat_type=Group/dt=2015-12-02/hour=00/g.gz.parquet",
    ]);
  });

  it.each<MessageSearch>([
    {},
    { text: "天气" },
    { group: "@TGS#1" },
    { type: "TIMTextElem", from: "2015120123", to: "2015120123" },
    { text: "你好", limit: 77 },
    { user: "u1", peer: "u2" },
  ])("a search of one scan, unsorted, gives the rows ORDER BY gives, in its order: %o", async (search) => {
    const sorted = await texts(search, false);

    const streamed = await texts(search, true);

    expect(streamed.length).toBeGreaterThan(0);
    expect(streamed).toEqual(sorted);
  });

  it("still sorts a search of two scans (--user)", async () => {
    const sql = buildSearchSql({ user: "u1" }, { inTableOrder: true }).sql;
    expect(sql).toContain("ORDER BY");
    expect((await texts({ user: "u1" }, true)).length).toBeGreaterThan(0);
  });
});
