import {
  ArchiveFailedError,
  type ArchiveOutcome,
  type ChatType,
  type MediaCounts,
  type MsgTime,
} from "@imvault/im-core";
import { describeError, EXIT, type ExitCode } from "../exit-codes.ts";
import { plainTable, renderTable } from "../table.ts";
import { formatBytes } from "../terminal.ts";

/** How one hour of one chat type ended in `imvault archive`. */
export interface HourRow {
  msgTime: MsgTime;
  chatType: ChatType;
  outcome: ArchiveOutcome | "failed" | "interrupted";
  files: number;
  bytes: number;
  /** The most download attempts one file of the hour took (0: nothing was downloaded). */
  attempts: number;
  /** How capturing the hour's media ended; undefined when it was not tried (--no-media, no manifest). */
  media?: MediaCell;
  error?: string;
}

/** The media of one hour in `imvault archive`: its media manifest's counts, or why there are none. */
export type MediaCell =
  | { outcome: "captured"; counts: MediaCounts; bytes: number }
  | { outcome: "failed" | "interrupted" };

/** `12/1/0`: captured, missing, refused (the column's header says so). */
export function mediaCellText(cell: MediaCell | undefined): string {
  if (cell === undefined) return "-";
  if (cell.outcome !== "captured") return cell.outcome;
  return `${cell.counts.captured}/${cell.counts.missing}/${cell.counts.refused}`;
}

/** The row of an hour whose archiving threw: a failed download run keeps its attempts, others 0. */
export function failedRow(
  hour: { msgTime: MsgTime; chatType: ChatType },
  error: unknown,
  debug: boolean,
): HourRow {
  const attempts = error instanceof ArchiveFailedError ? Number(error.details?.attempts ?? 0) : 0;
  return { ...hour, outcome: "failed", files: 0, bytes: 0, attempts, error: describeError(error, debug) };
}

/** Outcomes that leave the hour settled for good: a manifest exists. */
const SETTLED: ReadonlySet<HourRow["outcome"]> = new Set(["archived", "empty", "expired", "skipped"]);

/**
 * 0 when every hour ended settled (and its media captured, when asked); 1 when any hour or its media
 * capture failed; 130 when interrupted; 3 when the rest is only pending (Tencent has not produced
 * those hours yet: run again later).
 */
export function archiveExitCode(rows: readonly HourRow[]): ExitCode {
  if (rows.some((r) => r.outcome === "failed" || r.media?.outcome === "failed")) return EXIT.failure;
  if (rows.some((r) => r.outcome === "interrupted" || r.media?.outcome === "interrupted")) {
    return EXIT.interrupted;
  }
  if (rows.some((r) => !SETTLED.has(r.outcome))) return EXIT.incomplete;
  return EXIT.ok;
}

export function countOutcomes(rows: readonly HourRow[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of rows) counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
  return counts;
}

/**
 * The per-hour table, oldest first, C2C before Group, then a totals line. With media (unless
 * --no-media) a column of captured/missing/refused counts per hour, and their totals at the end.
 */
export function renderArchiveSummary(rows: readonly HourRow[]): string {
  const withErrors = rows.some((r) => r.error !== undefined);
  const withMedia = rows.some((r) => r.media !== undefined);
  const table = plainTable({
    head: [
      "hour (Beijing)",
      "chat type",
      "outcome",
      "files",
      "bytes",
      "attempts",
      ...(withMedia ? ["media c/m/r"] : []),
      ...(withErrors ? ["error"] : []),
    ],
    colAligns: [
      "left",
      "left",
      "left",
      "right",
      "right",
      "right",
      ...(withMedia ? ["right" as const] : []),
      "left",
    ],
    ...(withErrors
      ? { wordWrap: true, colWidths: [null, null, null, null, null, null, ...(withMedia ? [null] : []), 60] }
      : {}),
  });
  const sorted = [...rows].sort((a, b) =>
    a.msgTime === b.msgTime ? a.chatType.localeCompare(b.chatType) : a.msgTime.localeCompare(b.msgTime),
  );
  for (const r of sorted) {
    table.push([
      r.msgTime,
      r.chatType,
      r.outcome,
      r.files,
      r.bytes === 0 ? "-" : formatBytes(r.bytes),
      r.attempts,
      ...(withMedia ? [mediaCellText(r.media)] : []),
      ...(withErrors ? [r.error ?? ""] : []),
    ]);
  }
  const files = rows.reduce((s, r) => s + r.files, 0);
  const bytes = rows.reduce((s, r) => s + r.bytes, 0);
  const counts = Object.entries(countOutcomes(rows))
    .map(([k, v]) => `${v} ${k}`)
    .join(", ");
  const media = withMedia ? `; media ${mediaTotals(rows)}` : "";
  return `${renderTable(table)}\n${rows.length} hour(s): ${counts || "none"}; ${files} file(s), ${formatBytes(bytes)}${media}`;
}

/** `40 captured, 3 missing, 0 refused, 1.2 MiB fetched` (and how many hours' capture failed). */
function mediaTotals(rows: readonly HourRow[]): string {
  const total = { captured: 0, missing: 0, refused: 0, bytes: 0, failed: 0 };
  for (const { media } of rows) {
    if (media?.outcome === "failed") total.failed++;
    if (media?.outcome !== "captured") continue;
    total.captured += media.counts.captured;
    total.missing += media.counts.missing;
    total.refused += media.counts.refused;
    total.bytes += media.bytes;
  }
  const failed = total.failed > 0 ? `, ${total.failed} hour(s) failed` : "";
  return `${total.captured} captured, ${total.missing} missing, ${total.refused} refused, ${formatBytes(total.bytes)} fetched${failed}`;
}
