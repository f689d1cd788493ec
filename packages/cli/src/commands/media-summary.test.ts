import { describe, expect, it } from "vitest";
import { EXIT } from "../exit-codes.ts";
import { type MediaRow, mediaExitCode, renderMediaSummary } from "./media-summary.ts";

const row = (outcome: MediaRow["outcome"], extra: Partial<MediaRow> = {}): MediaRow => ({
  msgTime: "2024050101",
  chatType: "C2C",
  outcome,
  counts: { captured: 0, missing: 0, refused: 0 },
  fetched: 0,
  reused: 0,
  bytes: 0,
  ...extra,
});
const note = { from: "2024050100", to: "2024050123", captured: 5, notArchived: 2 };

describe("mediaExitCode", () => {
  it("is 0 when every hour ended with a media manifest, 1 when any failed, 130 when cut short", () => {
    expect(mediaExitCode([row("captured"), row("skipped"), row("not archived")])).toBe(EXIT.ok);
    expect(mediaExitCode([])).toBe(EXIT.ok);
    expect(mediaExitCode([row("captured"), row("failed"), row("interrupted")])).toBe(EXIT.failure);
    expect(mediaExitCode([row("captured"), row("interrupted")])).toBe(EXIT.interrupted);
    expect(mediaExitCode([row("captured")], 3)).toBe(EXIT.interrupted);
  });
});

describe("renderMediaSummary", () => {
  it("lists hours oldest first with their counts and errors, then the totals and the rest of the window", () => {
    const text = renderMediaSummary(
      [
        row("failed", { msgTime: "2024050102", error: "media x failed 5 attempts (last: HTTP 502)" }),
        row("captured", {
          chatType: "Group",
          counts: { captured: 3, missing: 1, refused: 1 },
          fetched: 2,
          reused: 1,
          bytes: 3072,
        }),
      ],
      note,
    );

    const lines = text.split("\n");
    expect(lines[0]).toMatch(
      /^hour \(Beijing\)\s+chat type\s+outcome\s+captured\s+missing\s+refused\s+fetched\s+bytes\s+error$/,
    );
    expect(lines[1]).toMatch(/^2024050101\s+Group\s+captured\s+3\s+1\s+1\s+2\s+3\.0 KiB$/);
    expect(lines[2]).toMatch(/^2024050102\s+C2C\s+failed\s+0\s+0\s+0\s+0\s+-\s+media x failed 5 attempts/);
    expect(lines.slice(-2)).toEqual([
      "2 hour(s): 1 failed, 1 captured; media 3 captured, 1 missing, 1 refused; 2 object(s) fetched (3.0 KiB), 1 found stored already",
      "2024050100..2024050123: 5 hour(s) captured before, 2 not archived (`imvault archive` first)",
    ]);
  });

  it("prints no table when there was nothing to capture", () => {
    expect(renderMediaSummary([], note).split("\n")).toEqual([
      "0 hour(s): none; media 0 captured, 0 missing, 0 refused; 0 object(s) fetched (0 B), 0 found stored already",
      "2024050100..2024050123: 5 hour(s) captured before, 2 not archived (`imvault archive` first)",
    ]);
  });

  it("leaves hours the stop came before out of the table and counts them under it", () => {
    const text = renderMediaSummary([row("interrupted")], { ...note, notStarted: 13 });

    const lines = text.split("\n");
    expect(lines.filter((l) => /^2024050101\s/.test(l))).toHaveLength(1);
    expect(lines.at(-2)).toMatch(/^1 hour\(s\): 1 interrupted; /);
    expect(lines.at(-1)).toBe(
      "2024050100..2024050123: 5 hour(s) captured before, 2 not archived (`imvault archive` first), 13 not started (stopped before them: the next run captures them)",
    );
  });
});
