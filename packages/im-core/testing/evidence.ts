/** Archived hours written straight into a store, for the evidence tests (digests, verify, holds). */

import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { manifestKey, rawKey } from "../src/archive/layout.ts";
import { writeManifest } from "../src/archive/manifest.ts";
import type { ChatType } from "../src/im/types.ts";
import type { Manifest } from "../src/schemas/manifest.ts";
import type { ArchiveStore } from "../src/store/port.ts";
import type { MsgTime } from "../src/time/msgtime.ts";
import { makeHistoryFile } from "./history.ts";

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

/**
 * Stores an archived hour as the archiver leaves it: `files` real history files (GZip, Tencent's
 * layout) under raw/, then the manifest naming them. Answers the manifest and its key.
 */
export async function writeArchivedHour(
  store: ArchiveStore,
  chatType: ChatType,
  msgTime: MsgTime,
  /** `sha256s`: the manifest records each file's gzipSha256 and fileSha256, as archiving writes it now. */
  options: { files?: number; messages?: number; sha256s?: boolean } = {},
): Promise<{ manifest: Manifest; key: string }> {
  const files = [];
  for (let i = 0; i < (options.files ?? 1); i++) {
    const name = `${msgTime}-${i}.gz`;
    const fake = makeHistoryFile(
      chatType,
      msgTime,
      options.messages ?? 5 + i,
      `https://x.tim.qq.com/${name}`,
      0,
    );
    const key = rawKey(chatType, msgTime, name);
    await store.put(key, fake.gz, { ifNoneMatch: true });
    files.push({
      key,
      sourceUrl: `https://x.tim.qq.com/${name}`,
      gzipSize: fake.history.gzipSize,
      gzipMd5: fake.history.gzipMd5,
      fileSize: fake.history.fileSize,
      fileMd5: fake.history.fileMd5,
      messageCount: fake.messages,
      ...(options.sha256s ? { gzipSha256: sha256(fake.gz), fileSha256: sha256(gunzipSync(fake.gz)) } : {}),
    });
  }
  const manifest: Manifest = {
    version: 1,
    chatType,
    msgTime,
    status: files.length === 0 ? "empty" : "archived",
    files,
    archivedAt: new Date().toISOString(),
  };
  await writeManifest(store, manifest);
  return { manifest, key: manifestKey(chatType, msgTime) };
}
