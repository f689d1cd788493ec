import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { messageLines } from "../../testing/message-lines.ts";
import { HistoryParser } from "../history/parser.ts";
import type { ChatType } from "../im/types.ts";
import { MessageTable } from "./duckdb.ts";
import { convertHistoryToParquet } from "./message-parquet.ts";
import { fileRowFields, messageRow } from "./rows.ts";

const NOT_UTF8 = Buffer.concat([
  Buffer.from(
    '{"From_Account":"b\xff","To_Account":"a","MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x',
    "latin1",
  ),
  Buffer.from([0xe4, 0xbd]),
  Buffer.from('y"}}]}', "latin1"),
]);

/** A history file of `lines` (Buffers as they are), its header naming `chatType`. */
function historyFile(chatType: ChatType, lines: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [
    Buffer.from(`{"SdkAppId":1,"ChatType":"${chatType}","MsgTime":"2015120121","MsgList":[\n`),
  ];
  lines.forEach((l, i) => {
    parts.push(Buffer.isBuffer(l) ? l : Buffer.from(l), Buffer.from(i < lines.length - 1 ? ",\n" : "\n"));
  });
  parts.push(Buffer.from("]}\n"));
  return Buffer.concat(parts);
}

/**
 * The rows messageRow gives for the messages HistoryParser (JSON.parse) reads from `plain`, in the
 * terms DuckDB reads them back (UTF-8 strings; `ts` read back as epoch milliseconds).
 */
function expectedRows(chatType: ChatType, sourceKey: string, plain: Buffer) {
  const stored = (s: string | null) => (s === null ? null : Buffer.from(s, "utf8").toString("utf8"));
  // A BIGINT has no negative zero.
  const bigint = (n: number | null) => (n === 0 ? 0 : n);
  const file = fileRowFields({ chatType, msgTime: "2015120121", sourceKey });
  const parser = new HistoryParser();
  return parser.push(plain).flatMap((e) => {
    if (e.kind !== "message") return [];
    const row = messageRow(file, e.message, e.raw, e.line);
    return [
      {
        ...row,
        msg_timestamp: bigint(row.msg_timestamp),
        ts: bigint(row.ts),
        msg_seq: bigint(row.msg_seq),
        msg_random: bigint(row.msg_random),
        from_account: stored(row.from_account),
        to_account: stored(row.to_account),
        group_id: stored(row.group_id),
        conversation: stored(row.conversation),
        msg_types: row.msg_types.map(stored),
        text: stored(row.text),
        media_urls: row.media_urls.map(stored),
      },
    ];
  });
}

describe("MessageRowWriter, read back through DuckDB", () => {
  let dir: string;
  let table: MessageTable;
  const files: { chatType: ChatType; key: string; lines: (string | Buffer)[] }[] = [
    {
      chatType: "C2C",
      key: "raw/chat_type=C2C/dt=2015-12-01/hour=21/c.gz",
      lines: [...messageLines(300, 3), NOT_UTF8],
    },
    { chatType: "Group", key: "raw/chat_type=Group/dt=2015-12-01/hour=21/g.gz", lines: messageLines(100, 4) },
  ];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "imvault-row-writer-"));
    for (const f of files) {
      const chunks: Buffer[] = [];
      await convertHistoryToParquet(
        Readable.from([gzipSync(historyFile(f.chatType, f.lines))]),
        {
          chatType: f.chatType,
          msgTime: "2015120121",
          sourceKey: f.key,
          gzipMd5: "0".repeat(32),
          fileMd5: "1".repeat(32),
        },
        (b) => {
          chunks.push(Buffer.from(b));
        },
        // Small pages and row groups: values cross pages, dictionaries start again.
        { pageBytes: 4096, rowGroupRows: 64 },
      );
      const hourDir = join(dir, `chat_type=${f.chatType}`, "dt=2015-12-01", "hour=21");
      await mkdir(hourDir, { recursive: true });
      await writeFile(join(hourDir, `${f.chatType}.parquet`), Buffer.concat(chunks));
    }
    table = await MessageTable.open(dir);
  });

  afterAll(async () => {
    table?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it.each(["C2C", "Group"] as const)(
    "writes the row messageRow defines for every %s message",
    async (chatType) => {
      const f = files.find((x) => x.chatType === chatType)!;
      const result = await table.query(
        `SELECT * REPLACE (epoch_ms(ts) AS ts) FROM messages WHERE chat_type = '${chatType}' ORDER BY line`,
      );
      const rows: Record<string, unknown>[] = [];
      for await (const batch of result.batches) rows.push(...batch);

      const want = expectedRows(chatType, f.key, historyFile(chatType, f.lines));
      expect(rows).toHaveLength(want.length);
      for (let i = 0; i < want.length; i++) {
        expect({ line: i + 2, row: rows[i] }).toEqual({ line: i + 2, row: want[i] });
      }
    },
  );
});
