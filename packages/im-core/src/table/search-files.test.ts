import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeTableFile } from "../../testing/table.ts";
import type { ChatType } from "../im/types.ts";
import { MessageTable, tableFiles } from "./duckdb.ts";
import { filesThatMayMatch } from "./search-files.ts";
import { buildSearchSql, type MessageSearch } from "./search-sql.ts";

/**
 * Files whose accounts, groups and message types differ: `a*` accounts talk in hour 2015120123,
 * `b*` in 2015120200 (where `a0` writes to `b0` once, in the last row group), one group, images in
 * one file.
 */
interface FileSpec {
  chatType: ChatType;
  msgTime: string;
  name: string;
  messages: number;
  /** The sender and (C2C) the recipient of message i of n. */
  pair: (i: number, n: number) => [string, string];
  image?: boolean;
}
const FILES: FileSpec[] = [
  {
    chatType: "C2C",
    msgTime: "2015120123",
    name: "a.gz",
    messages: 120,
    pair: (i) => [`a${i % 6}`, `a${(i + 1) % 6}`],
  },
  {
    chatType: "C2C",
    msgTime: "2015120200",
    name: "b.gz",
    messages: 200,
    pair: (i, n) => (i === n - 2 ? ["a0", "b0"] : [`b${i % 6}`, `b${(i + 1) % 6}`]),
    image: true,
  },
  { chatType: "Group", msgTime: "2015120200", name: "g.gz", messages: 90, pair: (i) => [`b${i % 3}`, ""] },
];

function history(f: FileSpec): Buffer {
  const lines = [`{"SdkAppId":1400000001,"ChatType":"${f.chatType}","MsgTime":"${f.msgTime}","MsgList":[`];
  for (let i = 0; i < f.messages; i++) {
    const [from, to] = f.pair(i, f.messages);
    const peer = f.chatType === "C2C" ? { To_Account: to } : { GroupId: "@TGS#1" };
    const body =
      f.image === true && i % 10 === 0
        ? [{ MsgType: "TIMImageElem", MsgContent: { ImageInfoArray: [] } }]
        : [{ MsgType: "TIMTextElem", MsgContent: { Text: i % 4 === 0 ? `天气 ${i}` : `你好 ${i}` } }];
    const message = JSON.stringify({
      From_Account: from,
      ...peer,
      MsgTimestamp: 1448974800 + i,
      MsgSeq: i,
      MsgBody: body,
    });
    lines.push(i < f.messages - 1 ? `${message},` : message);
  }
  lines.push("]}");
  return gzipSync(`${lines.join("\n")}\n`);
}

describe("the files a search may match", () => {
  let dir: string;
  let all: string[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "imvault-search-files-"));
    for (const f of FILES) {
      // Several row groups (each with its own dictionaries) and pages a file.
      await writeTableFile(dir, f, history(f), { rowGroupRows: 64, pageBytes: 512 });
    }
    all = tableFiles(dir);
  });

  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const names = (files: string[]) => files.map((f) => f.split(/[/\\]/).at(-1));

  it.each<[MessageSearch, string[]]>([
    [{ user: "a1" }, ["a.gz.parquet"]],
    // In b.gz's last row group only, as a sender and as a recipient.
    [{ user: "a0" }, ["a.gz.parquet", "b.gz.parquet"]],
    [{ user: "b1" }, ["b.gz.parquet", "g.gz.parquet"]],
    [{ user: "nobody" }, []],
    [{ user: "a1", peer: "a2" }, ["a.gz.parquet"]],
    // b.gz's one row group with a0 has no "nobody" (nor a0) among its recipients.
    [{ user: "a0", peer: "nobody" }, ["a.gz.parquet"]],
    [{ group: "@TGS#1" }, ["g.gz.parquet"]],
    [{ group: "@TGS#2" }, []],
    [{ type: "TIMImageElem" }, ["b.gz.parquet"]],
    [{ from: "2015120200", to: "2015120200" }, ["b.gz.parquet", "g.gz.parquet"]],
    [{ to: "2015120123" }, ["a.gz.parquet"]],
    [{ user: "a0", from: "2015120200" }, ["b.gz.parquet"]],
    [{ text: "天气" }, ["a.gz.parquet", "b.gz.parquet", "g.gz.parquet"]],
  ])("%o: leaves out the files that provably hold no match", async (search, expected) => {
    const kept = await filesThatMayMatch(dir, all, search);

    expect(names(kept)).toEqual(expected);
  });

  it.each<MessageSearch>([
    { user: "a0" },
    { user: "b1" },
    { user: "a1", peer: "a2" },
    { group: "@TGS#1" },
    { type: "TIMImageElem" },
    { user: "a0", from: "2015120200", text: "你好" },
  ])("a table opened for %o finds the rows the whole table finds", async (search) => {
    const rows = async (table: MessageTable) => {
      const out: string[] = [];
      for await (const batch of await table.queryBytes(
        buildSearchSql(search, { as: "json", inTableOrder: true }),
      ))
        for (const row of batch) out.push(Buffer.from(row).toString("utf8"));
      table.close();
      return out;
    };

    const whole = await rows(await MessageTable.open(dir));
    const pruned = await rows(await MessageTable.open(dir, { search }));

    expect(whole.length).toBeGreaterThan(0);
    expect(pruned).toEqual(whole);
  });

  it("keeps a file it cannot read, for DuckDB to say what is wrong with it", async () => {
    const broken = join("chat_type=C2C", "dt=2015-12-01", "hour=22", "x.gz.parquet");
    await mkdir(join(dir, "chat_type=C2C", "dt=2015-12-01", "hour=22"), { recursive: true });
    await writeFile(join(dir, broken), "not parquet at all");

    const kept = await filesThatMayMatch(dir, [broken, ...all], { user: "nobody" });

    await rm(join(dir, broken));
    expect(kept).toEqual([broken]);
  });
});
