/**
 * The coverage heatmap's model: `/v1/status` rows laid out as days × hours (Beijing), one row per chat
 * type and day, each cell in one state, and the hours at risk (past settle, not archived) with how
 * long until Tencent deletes them. Pure code, shared by the browser and the unit tests.
 */
import { type MediaMark, mediaMark, type StatusAnswer, type StatusRow } from "./answers.ts";
import { DAY_MS, HOUR_MS, hourEndMs, splitMsgTime } from "./time.ts";

export type { StatusAnswer, StatusRow };

/**
 * A cell's state. `pending`: no manifest, but the hour ended less than SETTLE_HOURS ago (the archiver
 * may still be waiting for Tencent's files). `missing`: no manifest past settle (at risk, until
 * Tencent's retention runs out). The others are the manifest's status, or `corrupt`.
 */
export const CELL_STATES = ["archived", "empty", "pending", "missing", "expired", "corrupt"] as const;
export type CellState = (typeof CELL_STATES)[number];

/** Label, glyph (shown in the cell, beside the colour) and meaning of each state: the legend. */
export const STATE_INFO: Record<CellState, { label: string; glyph: string; meaning: string }> = {
  archived: { label: "archived", glyph: "✓", meaning: "files stored and verified" },
  empty: { label: "empty", glyph: "○", meaning: "Tencent has no messages for this hour" },
  pending: {
    label: "pending",
    glyph: "…",
    meaning: "ended recently; the archiver is still waiting for the files",
  },
  missing: {
    label: "missing",
    glyph: "!",
    meaning: "not archived past settle: at risk until Tencent deletes it",
  },
  expired: {
    label: "expired",
    glyph: "✕",
    meaning: "Tencent deleted the files before they were archived: lost",
  },
  corrupt: {
    label: "corrupt",
    glyph: "?",
    meaning: "the manifest cannot be read (imvault verify says why)",
  },
};

export interface HeatCell {
  msgTime: string;
  chatType: string;
  /** What `/v1/status` answered (archived, empty, expired, missing, corrupt, or a newer status). */
  status: string;
  state: CellState;
  date: string;
  hour: number;
  files: number;
  bytes: number;
  messages: number;
  /** `missing` cells: when Tencent deletes the hour's files (hour end + retention). */
  deadlineMs?: number;
  /** Media capture of the hour, once its history is archived. */
  media?: MediaMark;
}

export interface HeatRow {
  date: string;
  chatType: string;
  /** 24 slots, hour 0–23 (Beijing); null outside the window. */
  cells: (HeatCell | null)[];
}

export interface Heatmap {
  from: string;
  to: string;
  hours: number;
  chatTypes: string[];
  /** Newest day first; within a day, one row per chat type. */
  rows: HeatRow[];
  counts: Record<CellState, number>;
  /** Missing cells whose files Tencent still has, soonest deadline first. */
  atRisk: HeatCell[];
  /** Missing cells past Tencent's retention: almost surely lost. */
  pastRetention: HeatCell[];
  /** True when some row reports media (an archived hour). */
  hasMedia: boolean;
}

export interface HeatmapOptions {
  nowMs: number;
  settleHours: number;
  retentionDays: number;
}

export function cellState(row: StatusRow, options: HeatmapOptions): CellState {
  switch (row.status) {
    case "archived":
    case "empty":
    case "expired":
    case "corrupt":
      return row.status;
    case "missing":
      return options.nowMs < hourEndMs(row.msgTime) + options.settleHours * HOUR_MS ? "pending" : "missing";
    default:
      // A status this console does not know yet reads as not archived: never as safe.
      return "missing";
  }
}

export function buildHeatmap(answer: StatusAnswer, options: HeatmapOptions): Heatmap {
  const chatTypes = [...new Set(answer.rows.map((r) => r.chatType))].sort();
  const byRow = new Map<string, HeatRow>();
  const counts = Object.fromEntries(CELL_STATES.map((s) => [s, 0])) as Record<CellState, number>;
  const atRisk: HeatCell[] = [];
  const pastRetention: HeatCell[] = [];
  let hasMedia = false;
  for (const row of answer.rows) {
    const { date, hour } = splitMsgTime(row.msgTime);
    const state = cellState(row, options);
    const media = mediaMark(row.media);
    const cell: HeatCell = {
      msgTime: row.msgTime,
      chatType: row.chatType,
      status: row.status,
      state,
      date,
      hour,
      files: row.files,
      bytes: row.bytes,
      messages: row.messages,
      ...(media === undefined ? {} : { media }),
    };
    if (media !== undefined) hasMedia = true;
    if (state === "missing") {
      cell.deadlineMs = hourEndMs(row.msgTime) + options.retentionDays * DAY_MS;
      (cell.deadlineMs > options.nowMs ? atRisk : pastRetention).push(cell);
    }
    counts[state]++;
    const key = `${date}|${row.chatType}`;
    let heatRow = byRow.get(key);
    if (heatRow === undefined) {
      heatRow = { date, chatType: row.chatType, cells: Array.from({ length: 24 }, () => null) };
      byRow.set(key, heatRow);
    }
    heatRow.cells[hour] = cell;
  }
  const rows = [...byRow.values()].sort((a, b) =>
    a.date === b.date
      ? chatTypes.indexOf(a.chatType) - chatTypes.indexOf(b.chatType)
      : a.date < b.date
        ? 1
        : -1,
  );
  atRisk.sort((a, b) => a.deadlineMs! - b.deadlineMs!);
  return {
    from: answer.from,
    to: answer.to,
    hours: answer.hours,
    chatTypes,
    rows,
    counts,
    atRisk,
    pastRetention,
    hasMedia,
  };
}

/** The words a screen reader says for a cell (and its tooltip). */
export function describeCell(cell: HeatCell, nowMs: number): string {
  const parts = [
    `${cell.chatType} ${cell.date} ${String(cell.hour).padStart(2, "0")}:00 Beijing`,
    STATE_INFO[cell.state].label,
  ];
  if (cell.state === "archived") parts.push(`${cell.files} file(s), ${cell.messages} message(s)`);
  if (cell.deadlineMs !== undefined) {
    parts.push(cell.deadlineMs > nowMs ? "at risk" : "past Tencent's retention");
  }
  if (cell.media !== undefined) parts.push(cell.media.text);
  return parts.join(", ");
}
