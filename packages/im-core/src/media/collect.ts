import type { Manifest } from "../archive/manifest.ts";
import { HistoryFormatError, ImvaultError } from "../errors.ts";
import { mediaUrls } from "../history/media.ts";
import { readGzipHistory } from "../history/parser.ts";
import type { ArchiveStore } from "../store/port.ts";

/**
 * Every distinct rich-media URL of an archived hour, in the order they first appear: the raw files of
 * the hour's manifest are streamed from the store, gunzipped and parsed one message at a time (see
 * history/media.ts for the fields read). Memory holds the distinct URLs, never a file.
 */
export async function hourMediaUrls(
  store: ArchiveStore,
  manifest: Manifest,
  signal?: AbortSignal,
): Promise<string[]> {
  const seen = new Set<string>();
  for (const file of manifest.files) {
    signal?.throwIfAborted();
    const body = await store.get(file.key);
    try {
      for await (const event of readGzipHistory(body)) {
        if (event.kind !== "message") continue;
        for (const media of mediaUrls(event.message)) seen.add(media.url);
      }
    } catch (err) {
      if (err instanceof HistoryFormatError) {
        // The archive keeps a file that matches Tencent's figures but not the one-message-a-line layout
        // (its manifest notes framingProblem); the streaming parser cannot read such a file.
        throw new ImvaultError(`media capture cannot read ${file.key}: ${err.message}`, {
          details: { key: file.key, line: err.line, framingProblem: file.framingProblem },
          cause: err,
        });
      }
      throw err;
    } finally {
      body.destroy();
    }
  }
  return [...seen];
}
