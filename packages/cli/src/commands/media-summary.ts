import type { ChatType, MediaCounts, MsgTime } from "@imvault/im-core";
import { EXIT, type ExitCode } from "../exit-codes.ts";
import { plainTable, renderTable } from "../table.ts";
import { formatBytes } from "../terminal.ts";

/** How capturing one hour's media ended in `imvault media`. */
export interface MediaRow {
  msgTime: MsgTime;
  chatType: ChatType;
  /** `skipped`: captured by another run meanwhile; `not archived`: its history manifest went away. */
  outcome: "captured" | "skipped" | "not archived" | "failed" | "interrupted";
  /** The media manifest's items by status (zero when there is none). */
  counts: MediaCounts;
  /** Objects downloaded by this run, objects found stored already, bytes downloaded. */
  fetched: number;
  reused: number;
  bytes: number;
  error?: string;
}

/** What the window held besides the hours worked on. */
export interface MediaWindowNote {
  from: MsgTime;
  to: MsgTime;
  /** Hours whose media were captured before this run. */
  captured: number;
  /** Hours without a history manifest: nothing to capture until `imvault archive` has them. */
  notArchived: number;
  /** Hours to capture that were never started: the run was stopped (Ctrl-C) before them. */
  notStarted?: number;
}

/**
 * 0 when every hour worked on ended with a media manifest; 1 when any failed; 130 when interrupted,
 * or when hours were left unstarted by the stop.
 */
export function mediaExitCode(rows: readonly MediaRow[], notStarted = 0): ExitCode {
  if (rows.some((r) => r.outcome === "failed")) return EXIT.failure;
  if (notStarted > 0 || rows.some((r) => r.outcome === "interrupted")) return EXIT.interrupted;
  return EXIT.ok;
}

/** The per-hour table (oldest first, C2C before Group), a totals line, and what else the window held. */
export function renderMediaSummary(rows: readonly MediaRow[], note: MediaWindowNote): string {
  const withErrors = rows.some((r) => r.error !== undefined);
  const table = plainTable({
    head: [
      "hour (Beijing)",
      "chat type",
      "outcome",
      "captured",
      "missing",
      "refused",
      "fetched",
      "bytes",
      ...(withErrors ? ["error"] : []),
    ],
    colAligns: ["left", "left", "left", "right", "right", "right", "right", "right", "left"],
    ...(withErrors
      ? { wordWrap: true, colWidths: [null, null, null, null, null, null, null, null, 60] }
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
      r.counts.captured,
      r.counts.missing,
      r.counts.refused,
      r.fetched,
      r.bytes === 0 ? "-" : formatBytes(r.bytes),
      ...(withErrors ? [r.error ?? ""] : []),
    ]);
  }
  const outcomes = new Map<string, number>();
  const total = { captured: 0, missing: 0, refused: 0, fetched: 0, reused: 0, bytes: 0 };
  for (const r of rows) {
    outcomes.set(r.outcome, (outcomes.get(r.outcome) ?? 0) + 1);
    total.captured += r.counts.captured;
    total.missing += r.counts.missing;
    total.refused += r.counts.refused;
    total.fetched += r.fetched;
    total.reused += r.reused;
    total.bytes += r.bytes;
  }
  const counts = [...outcomes].map(([k, n]) => `${n} ${k}`).join(", ");
  const lines = [
    `${rows.length} hour(s): ${counts || "none"}; media ${total.captured} captured, ${total.missing} missing, ${total.refused} refused; ${total.fetched} object(s) fetched (${formatBytes(total.bytes)}), ${total.reused} found stored already`,
    `${note.from}..${note.to}: ${note.captured} hour(s) captured before, ${note.notArchived} not archived (\`imvault archive\` first)` +
      (note.notStarted
        ? `, ${note.notStarted} not started (stopped before them: the next run captures them)`
        : ""),
  ];
  return [...(rows.length > 0 ? [renderTable(table)] : []), ...lines].join("\n");
}
