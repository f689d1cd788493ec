import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ValidationError } from "../errors.ts";
import { MessageTable } from "./duckdb.ts";
import { convertHistoryToParquet, TABLE_META } from "./message-parquet.ts";
import { parquetKeyValue } from "./parquet-footer.ts";

const KEY = "raw/chat_type=C2C/dt=2015-12-01/hour=21/h.gz";
const lines = [
  '{"SdkAppId":1400000001,"ChatType":"C2C","MsgTime":"2015120121","MsgList":[',
  ...Array.from({ length: 300 }, (_, i) =>
    JSON.stringify({
      From_Account: `u${i % 7}`,
      To_Account: `u${(i + 1) % 7}`,
      MsgTimestamp: 1448974800 + i,
      MsgSeq: 9_007_199_254_740_000 + i,
      MsgRandom: i,
      MsgBody:
        i % 3 === 0
          ? []
          : [{ MsgType: "TIMTextElem", MsgContent: { Text: i % 2 ? `你好 ${i}` : `안녕 ${i}` } }],
      ...(i === 5 ? { Extra: { kept: true } } : {}),
    }),
  ).map((l, i, all) => (i < all.length - 1 ? `${l},` : l)),
  "]}",
];
const gz = gzipSync(`${lines.join("\n")}\n`);

describe("the message table through DuckDB", () => {
  let dir: string;
  let table: MessageTable;
  let parquet: Buffer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "imvault-table-"));
    const chunks: Buffer[] = [];
    // Small pages and row groups, so that the file has several of each.
    await convertHistoryToParquet(
      Readable.from([gz]),
      {
        chatType: "C2C",
        msgTime: "2015120121",
        sourceKey: KEY,
        gzipMd5: "0".repeat(32),
        fileMd5: "1".repeat(32),
      },
      (b) => {
        chunks.push(Buffer.from(b));
      },
      { pageBytes: 2048, rowGroupRows: 128 },
    );
    parquet = Buffer.concat(chunks);
    const hourDir = join(dir, "chat_type=C2C", "dt=2015-12-01", "hour=21");
    await mkdir(hourDir, { recursive: true });
    await writeFile(join(hourDir, "h.gz.parquet"), parquet);
    table = await MessageTable.open(dir);
  });

  afterAll(async () => {
    table?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const rows = async (sql: string) => {
    const result = await table.query(sql);
    const out: Record<string, unknown>[] = [];
    for await (const batch of result.batches) out.push(...batch);
    return out;
  };

  it("reads back every message with the values written, across pages and row groups", async () => {
    const all = await rows("SELECT * FROM messages ORDER BY line");

    expect(all).toHaveLength(300);
    expect(all[5]).toMatchObject({
      chat_type: "C2C",
      dt: "2015-12-01",
      hour: "21",
      from_account: "u5",
      conversation: "u5|u6",
      msg_timestamp: 1448974805,
      ts: "2015-12-01 13:00:05",
      msg_types: ["TIMTextElem"],
      text: "你好 5",
      media_urls: [],
      line: 7,
      source_key: KEY,
    });
    expect(JSON.parse(all[5]!.raw as string).Extra).toEqual({ kept: true });
    expect(all[0]!.text).toBeNull();
    expect(all[299]!.msg_seq).toBe(9_007_199_254_740_299);
  });

  it("gives BIGINTs as JSON numbers while exact, past 2^53 as their digits", async () => {
    expect(await rows("SELECT 9007199254740993::BIGINT AS big, 42::BIGINT AS small")).toEqual([
      { big: "9007199254740993", small: 42 },
    ]);
  });

  it("answers substring searches in Chinese and Korean", async () => {
    expect(await rows("SELECT count(*) AS n FROM messages WHERE contains(text, '你好')")).toEqual([
      { n: 100 },
    ]);
    expect(await rows("SELECT count(*) AS n FROM messages WHERE contains(text, '안녕')")).toEqual([
      { n: 100 },
    ]);
  });

  it("records the source in the file's key-value metadata", async () => {
    const kv = await parquetKeyValue(Readable.from([parquet]));

    expect(kv[TABLE_META.sourceKey]).toBe(KEY);
    expect(kv[TABLE_META.sourceGzipMd5]).toBe("0".repeat(32));
    expect(kv[TABLE_META.messageCount]).toBe("300");
    expect(kv[TABLE_META.sourceGzipSha256]).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    "INSERT INTO messages SELECT * FROM messages",
    "COPY (SELECT 1) TO 'out.csv'",
    `ATTACH '${join(tmpdir(), "x.duckdb")}' AS x`,
    "CREATE TABLE t AS SELECT 1",
    "DROP VIEW messages",
    "PRAGMA version",
    "PRAGMA enable_profiling",
    "SET threads = 1",
    "CALL pragma_version()",
    "SELECT 1; SELECT 2",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_parquet('/tmp/*.parquet')",
  ])("refuses %s and the table is still whole", async (sql) => {
    await expect(table.query(sql)).rejects.toThrow(ValidationError);
    expect(await rows("SELECT count(*) AS n FROM messages")).toEqual([{ n: 300 }]);
  });

  it.each(["", "  \n "])("refuses an empty query (%j), saying so", async (sql) => {
    const run = table.query(sql);

    await expect(run).rejects.toBeInstanceOf(ValidationError);
    await expect(run).rejects.toThrow("give a statement: the query is empty");
  });

  it("opens an empty table with the same columns when nothing is indexed yet", async () => {
    const empty = await MessageTable.open(join(dir, "none"));
    try {
      const result = await empty.query("SELECT * FROM messages");
      expect(result.columns).toContain("raw");
      expect(result.columns).toHaveLength(18);
    } finally {
      empty.close();
    }
  });
});
