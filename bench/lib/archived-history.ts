/**
 * A generated history file stored the way `imvault archive` stores one under a DATA_DIR: the GZip at
 * its raw key (`{chatType}_{msgTime}_1.gz`) and the hour's manifest naming its sizes and MD5s.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type ChatType, type MsgTime, manifestKey, rawKey } from "@imvault/im-core";
import { type GzipHistoryResult, type HistoryGenOptions, writeGzipHistory } from "./history-gen.ts";

/** Where an hour's one generated raw file goes: its key and its path under `dataDir`. */
export function archivedHistoryPath(
  dataDir: string,
  chatType: ChatType,
  msgTime: MsgTime,
): { key: string; path: string } {
  const key = rawKey(chatType, msgTime, `${chatType}_${msgTime}_1.gz`);
  return { key, path: join(dataDir, key) };
}

/** Generates the hour's history file into `dataDir` and writes its manifest after it. */
export async function writeArchivedHistory(
  dataDir: string,
  options: HistoryGenOptions & { chatType: ChatType; msgTime: MsgTime },
): Promise<GzipHistoryResult & { key: string; path: string }> {
  const { chatType, msgTime } = options;
  const { key, path } = archivedHistoryPath(dataDir, chatType, msgTime);
  await mkdir(dirname(path), { recursive: true });
  const r = await writeGzipHistory(path, options);
  const manifest = {
    version: 1,
    chatType,
    msgTime,
    status: "archived",
    files: [
      {
        key,
        sourceUrl: `https://download.tim.qq.com/${chatType}_${msgTime}_1.gz`,
        gzipSize: r.gzipBytes,
        gzipMd5: r.gzipMd5,
        fileSize: r.plainBytes,
        fileMd5: r.plainMd5,
        messageCount: r.messages,
      },
    ],
    archivedAt: new Date().toISOString(),
  };
  await mkdir(dirname(join(dataDir, manifestKey(chatType, msgTime))), { recursive: true });
  await writeFile(join(dataDir, manifestKey(chatType, msgTime)), JSON.stringify(manifest));
  return { ...r, key, path };
}
