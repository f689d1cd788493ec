import { CorruptManifestError } from "../errors.ts";
import { CHAT_TYPES, type ChatType } from "../im/types.ts";
import { mediaManifestKey } from "../media/layout.ts";
import type { MediaManifest } from "../media/manifest.ts";
import { mediaManifestsIn } from "../media/plan.ts";
import type { Coverage, CoverageMedia, CoverageRow, CoverageTotals } from "../schemas/coverage.ts";
import type { ArchiveStore } from "../store/port.ts";
import { hourRange, type MsgTime } from "../time/msgtime.ts";
import { manifestKey } from "./layout.ts";
import { manifestsIn } from "./plan.ts";

/**
 * Per hour and chat type of the window: what the manifests say, `missing` where there is none and
 * `corrupt` where the manifest cannot be read as one; and for each hour with a manifest, its media:
 * the media manifest's items by status, or `pending` while it has none.
 */
export async function coverage(
  store: ArchiveStore,
  window: { from: MsgTime; to: MsgTime },
  chatTypes: readonly ChatType[] = CHAT_TYPES,
): Promise<Coverage> {
  const hours = hourRange(window.from, window.to);
  const [manifests, media] = await Promise.all([
    manifestsIn(store, chatTypes, hours),
    mediaManifestsIn(store, chatTypes, hours),
  ]);
  const rows: CoverageRow[] = [];
  const totals: CoverageTotals = { archived: 0, empty: 0, expired: 0, missing: 0 };
  for (const msgTime of hours) {
    for (const chatType of chatTypes) {
      const manifest = manifests.get(manifestKey(chatType, msgTime));
      const row: CoverageRow =
        manifest === undefined || manifest instanceof CorruptManifestError
          ? {
              msgTime,
              chatType,
              status: manifest === undefined ? "missing" : "corrupt",
              files: 0,
              bytes: 0,
              messages: 0,
            }
          : {
              msgTime,
              chatType,
              status: manifest.status,
              files: manifest.files.length,
              bytes: manifest.files.reduce((s, f) => s + f.gzipSize, 0),
              messages: manifest.files.reduce((s, f) => s + f.messageCount, 0),
              media: mediaOf(media.get(mediaManifestKey(chatType, msgTime))),
            };
      totals[row.status] = (totals[row.status] ?? 0) + 1;
      rows.push(row);
    }
  }
  return { from: window.from, to: window.to, rows, totals };
}

function mediaOf(manifest: MediaManifest | Error | undefined): CoverageMedia {
  if (manifest === undefined) return "pending";
  if (manifest instanceof Error) return "corrupt";
  const counts = { captured: 0, missing: 0, refused: 0 };
  for (const item of manifest.items) counts[item.status]++;
  return counts;
}
