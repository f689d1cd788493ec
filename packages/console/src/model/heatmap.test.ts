import { describe, expect, it } from "vitest";
import { buildHeatmap, cellState, describeCell, type StatusRow } from "./heatmap.ts";
import { DAY_MS, HOUR_MS, hourEndMs } from "./time.ts";

const row = (msgTime: string, chatType: string, status: string, extra: Partial<StatusRow> = {}) => ({
  msgTime,
  chatType,
  status,
  files: 0,
  bytes: 0,
  messages: 0,
  ...extra,
});
/** 2024-03-01 18:30 Beijing. */
const NOW = Date.parse("2024-03-01T10:30:00Z");
const options = { nowMs: NOW, settleHours: 6, retentionDays: 7 };

describe("cellState", () => {
  it("calls a missing hour pending within settle, missing after it; manifests' statuses stay", () => {
    expect(cellState(row("2024030113", "C2C", "missing"), options)).toBe("pending"); // ended 4.5 h ago
    expect(cellState(row("2024030111", "C2C", "missing"), options)).toBe("missing"); // ended 6.5 h ago
    expect(cellState(row("2024030111", "C2C", "archived"), options)).toBe("archived");
    expect(cellState(row("2024030111", "C2C", "corrupt"), options)).toBe("corrupt");
  });

  it("never shows a status it does not know as safe", () => {
    expect(cellState(row("2024030111", "C2C", "quarantined"), options)).toBe("missing");
  });
});

describe("buildHeatmap", () => {
  const answer = {
    hours: 3,
    from: "2024022923",
    to: "2024030101",
    rows: [
      row("2024022923", "C2C", "archived", { files: 1, bytes: 10, messages: 5 }),
      row("2024022923", "Group", "missing"),
      row("2024030100", "C2C", "empty"),
      row("2024030100", "Group", "missing"),
      row("2024030101", "C2C", "expired"),
      row("2024030101", "Group", "archived", { media: { captured: 3, missing: 1, refused: 0 } }),
    ],
  };

  it("lays the rows out as days × hours, newest day first, a row per chat type", () => {
    const map = buildHeatmap(answer, options);

    expect(map.rows.map((r) => `${r.date} ${r.chatType}`)).toEqual([
      "2024-03-01 C2C",
      "2024-03-01 Group",
      "2024-02-29 C2C",
      "2024-02-29 Group",
    ]);
    expect(map.rows[0]!.cells.map((c) => c?.state ?? null).slice(0, 3)).toEqual(["empty", "expired", null]);
    expect(map.rows[2]!.cells[23]).toMatchObject({ state: "archived", files: 1, messages: 5 });
    expect(map.rows[2]!.cells.filter((c) => c !== null)).toHaveLength(1);
    expect(map.counts).toEqual({ archived: 2, empty: 1, pending: 0, missing: 2, expired: 1, corrupt: 0 });
  });

  it("lists the hours at risk soonest first, with Tencent's deadline (hour end + retention)", () => {
    const map = buildHeatmap(answer, options);

    expect(map.atRisk.map((c) => `${c.chatType} ${c.msgTime}`)).toEqual([
      "Group 2024022923",
      "Group 2024030100",
    ]);
    expect(map.atRisk[0]!.deadlineMs).toBe(hourEndMs("2024022923") + 7 * DAY_MS);
    expect(map.pastRetention).toEqual([]);
  });

  it("puts a missing hour past retention apart: almost surely lost, no longer 'at risk'", () => {
    const map = buildHeatmap(answer, { ...options, nowMs: hourEndMs("2024030100") + 7 * DAY_MS + HOUR_MS });

    expect(map.atRisk).toEqual([]);
    expect(map.pastRetention.map((c) => c.msgTime).sort()).toEqual(["2024022923", "2024030100"]);
    expect(describeCell(map.pastRetention[0]!, NOW + 30 * DAY_MS)).toMatch(/past Tencent's retention/);
  });

  it("carries each hour's media capture when the rows report it", () => {
    const map = buildHeatmap(answer, options);
    const cell = map.rows[1]!.cells[1]!;

    expect(map.hasMedia).toBe(true);
    expect(cell.media).toMatchObject({ state: "some-missing", glyph: "◇" });
    expect(describeCell(cell, NOW)).toBe(
      "Group 2024-03-01 01:00 Beijing, archived, 0 file(s), 0 message(s), media: 3 captured, 1 missing, 0 refused",
    );
    expect(buildHeatmap({ ...answer, rows: answer.rows.slice(0, 5) }, options).hasMedia).toBe(false);
  });
});
