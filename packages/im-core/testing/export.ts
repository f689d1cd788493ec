/**
 * Factories for export tests: message-table rows as the DuckDB source gives them, a source over them,
 * an indexed hour on disk, and an export zip unzipped.
 */

import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { buffer } from "node:stream/consumers";
import { gzipSync } from "node:zlib";
import yauzl from "yauzl";
import type { ExportRow, ExportSource, SliceCount } from "../src/export/source.ts";
import type { ChatType } from "../src/im/types.ts";
import { TABLE_PREFIX } from "../src/table/index-hour.ts";
import { writeTableFile } from "./table.ts";

/** A row of the table as DuckDB gives it, for a message `seq` of `from` to `to` at `msgTime`. */
export function exportRow(
  seq: number,
  msgTime: string,
  from: string,
  to: string,
  options: { chatType?: ChatType; media?: string[] } = {},
): ExportRow {
  const chatType = options.chatType ?? "C2C";
  const media = options.media ?? [];
  const body: unknown[] = [{ MsgType: "TIMTextElem", MsgContent: { Text: `hello ${seq}` } }];
  if (media.length > 0) {
    body.push({
      MsgType: "TIMImageElem",
      MsgContent: { ImageInfoArray: media.map((URL) => ({ Type: 1, URL })) },
    });
  }
  const raw = JSON.stringify({
    From_Account: from,
    To_Account: to,
    MsgSeq: seq,
    MsgTimestamp: 1_765_000_000 + seq,
    MsgBody: body,
  });
  const dt = `${msgTime.slice(0, 4)}-${msgTime.slice(4, 6)}-${msgTime.slice(6, 8)}`;
  return {
    chat_type: chatType,
    msg_time: msgTime,
    dt,
    msg_timestamp: 1_765_000_000 + seq,
    from_account: from,
    to_account: to,
    group_id: chatType === "Group" ? to : null,
    conversation: chatType === "Group" ? to : [from, to].sort().join("|"),
    msg_seq: seq,
    msg_random: null,
    msg_types: media.length > 0 ? ["TIMTextElem", "TIMImageElem"] : ["TIMTextElem"],
    text: `hello ${seq}`,
    media_urls: media,
    raw,
    source_key: `raw/chat_type=${chatType}/dt=${dt}/hour=${msgTime.slice(8)}/f.gz`,
    line: seq + 1,
  };
}

/** A source over rows already in export order, in batches of two. */
export function exportSource(rows: ExportRow[]): ExportSource {
  const counts = new Map<string, SliceCount>();
  for (const r of rows) {
    const k = `${r.dt}/${r.conversation}/${r.chat_type}`;
    const c = counts.get(k) ?? { dt: r.dt, chatType: r.chat_type, conversation: r.conversation, messages: 0 };
    c.messages++;
    counts.set(k, c);
  }
  return {
    extent: async () => ({ first: "2026120500", last: "2026120623" }),
    counts: async () => [...counts.values()],
    async *rows() {
      for (let i = 0; i < rows.length; i += 2) yield rows.slice(i, i + 2);
    },
  };
}

/**
 * The message table of one C2C hour (2024-03-01 12 Beijing) under `dataDir`, as `imvault index`
 * writes it: `count` text messages from u0..u{senders-1} to u9, the i-th saying `${text} ${i}`.
 */
export async function writeIndexedHour(
  dataDir: string,
  options: { count: number; senders: number; text: string },
): Promise<{ msgTime: string }> {
  const msgTime = "2024030112";
  const messages = Array.from({ length: options.count }, (_, i) =>
    JSON.stringify({
      From_Account: `u${i % options.senders}`,
      To_Account: "u9",
      MsgTimestamp: 1709265600 + i,
      MsgSeq: i,
      MsgRandom: i,
      MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: `${options.text} ${i}` } }],
    }),
  );
  const history = `{"SdkAppId":1,"ChatType":"C2C","MsgTime":"${msgTime}","MsgList":[\n${messages.join(",\n")}\n]}\n`;
  await writeTableFile(
    join(dataDir, TABLE_PREFIX),
    { chatType: "C2C", msgTime, name: "a.gz" },
    gzipSync(history),
  );
  return { msgTime };
}

/** Unzips `bytes` (an export's zip) into `dir`; answers the entries' names in the zip's order. */
export function unzipTo(bytes: Buffer, dir: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const names: string[] = [];
    yauzl.fromBuffer(bytes, { lazyEntries: true }, (err, zip) => {
      if (err) return reject(err);
      zip.on("entry", (entry: yauzl.Entry) => {
        names.push(entry.fileName);
        zip.openReadStream(entry, async (e, stream) => {
          if (e) return reject(e);
          const path = join(dir, ...entry.fileName.split("/"));
          await mkdir(dirname(path), { recursive: true });
          await writeFile(path, await buffer(stream));
          zip.readEntry();
        });
      });
      zip.on("end", () => resolve(names));
      zip.on("error", reject);
      zip.readEntry();
    });
  });
}
