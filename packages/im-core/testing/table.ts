/** Factories for message-table tests: one raw file's table file on disk, as `imvault index` writes it. */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { ChatType } from "../src/im/types.ts";
import { type ConvertOptions, convertHistoryToParquet } from "../src/table/message-parquet.ts";
import { hourParts } from "../src/time/msgtime.ts";

/**
 * Converts `gzip` (a history file of `chatType` at `msgTime`, named `name`) and writes it under
 * `tablesDir` at `chat_type=…/dt=…/hour=HH/{name}.parquet`; answers that path, relative to `tablesDir`.
 */
export async function writeTableFile(
  tablesDir: string,
  file: { chatType: ChatType; msgTime: string; name: string },
  gzip: Buffer,
  options: Pick<ConvertOptions, "rowGroupRows" | "pageBytes"> = {},
): Promise<string> {
  const { dt, hour } = hourParts(file.msgTime);
  const partition = `chat_type=${file.chatType}/dt=${dt}/hour=${hour}`;
  const chunks: Buffer[] = [];
  await convertHistoryToParquet(
    Readable.from([gzip]),
    {
      chatType: file.chatType,
      msgTime: file.msgTime,
      sourceKey: `raw/${partition}/${file.name}`,
      gzipMd5: "0".repeat(32),
      fileMd5: "1".repeat(32),
    },
    (b) => void chunks.push(Buffer.from(b)),
    options,
  );
  await mkdir(join(tablesDir, partition), { recursive: true });
  await writeFile(join(tablesDir, partition, `${file.name}.parquet`), Buffer.concat(chunks));
  return join(partition, `${file.name}.parquet`);
}
