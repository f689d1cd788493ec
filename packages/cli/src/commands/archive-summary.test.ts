import { ArchiveFailedError, ImApiError } from "@imvault/im-core";
import { describe, expect, it } from "vitest";
import { EXIT } from "../exit-codes.ts";
import { archiveExitCode, failedRow, type HourRow, renderArchiveSummary } from "./archive-summary.ts";

const row = (outcome: HourRow["outcome"], extra: Partial<HourRow> = {}): HourRow => ({
  msgTime: "2024050101",
  chatType: "C2C",
  outcome,
  files: 0,
  bytes: 0,
  attempts: 0,
  ...extra,
});

describe("archiveExitCode", () => {
  it("is 0 when every hour ended archived, empty, expired or already had a manifest", () => {
    expect(archiveExitCode([row("archived"), row("empty"), row("expired"), row("skipped")])).toBe(EXIT.ok);
    expect(archiveExitCode([])).toBe(EXIT.ok);
  });

  it("is 3 (run again later) when the only unsettled hours are pending", () => {
    expect(archiveExitCode([row("archived"), row("pending")])).toBe(EXIT.incomplete);
  });

  it("is 1 when any hour failed, whatever else happened", () => {
    expect(archiveExitCode([row("pending"), row("failed"), row("interrupted")])).toBe(EXIT.failure);
  });

  it("is 130 when hours were interrupted and none failed", () => {
    expect(archiveExitCode([row("archived"), row("interrupted"), row("pending")])).toBe(EXIT.interrupted);
  });
});

describe("renderArchiveSummary", () => {
  it("lists hours oldest first with C2C before Group, errors in full, and totals by outcome", () => {
    const text = renderArchiveSummary([
      row("archived", { msgTime: "2024050102", chatType: "Group", files: 2, bytes: 2048, attempts: 3 }),
      row("failed", {
        msgTime: "2024050101",
        chatType: "Group",
        error: "Tencent IM x failed with code 70009",
      }),
      row("archived", { msgTime: "2024050101", chatType: "C2C", files: 1, bytes: 10, attempts: 1 }),
    ]);

    const lines = text.split("\n");
    const order = lines
      .filter((l) => /2024050\d{3}/.test(l))
      .map((l) =>
        l
          .match(/(\d{10})\s+(C2C|Group)/)
          ?.slice(1, 3)
          .join(" "),
      );
    expect(order).toEqual(["2024050101 C2C", "2024050101 Group", "2024050102 Group"]);
    expect(text).toContain("code 70009");
    expect(text).toContain("2.0 KiB");
    expect(lines.at(-1)).toBe("3 hour(s): 2 archived, 1 failed; 3 file(s), 2.0 KiB");
  });
});

describe("media in archive's summary", () => {
  const media = (captured: number, missing: number, refused: number, bytes = 0) => ({
    outcome: "captured" as const,
    counts: { captured, missing, refused },
    bytes,
  });

  it("fails the command (1) when an hour's media failed, though its history is archived; 130 when cut short", () => {
    expect(archiveExitCode([row("archived", { media: { outcome: "failed" } })])).toBe(EXIT.failure);
    expect(archiveExitCode([row("archived", { media: { outcome: "interrupted" } })])).toBe(EXIT.interrupted);
    expect(
      archiveExitCode([row("archived", { media: media(1, 0, 0) }), row("empty", { media: media(0, 0, 0) })]),
    ).toBe(EXIT.ok);
  });

  it("adds a captured/missing/refused column and the media totals to the last line", () => {
    const text = renderArchiveSummary([
      row("archived", { files: 1, bytes: 100, attempts: 1, media: media(12, 1, 0, 2048) }),
      row("archived", {
        chatType: "Group",
        files: 1,
        bytes: 100,
        attempts: 1,
        media: { outcome: "failed" },
        error: "media: get_cos_sig failed",
      }),
      row("pending", { msgTime: "2024050102" }),
    ]);

    const lines = text.split("\n");
    expect(lines[0]).toMatch(/attempts\s+media c\/m\/r\s+error$/);
    expect(lines.find((l) => l.includes("C2C") && l.includes("archived"))).toMatch(/\s12\/1\/0\s*$/);
    expect(lines.find((l) => l.includes("Group"))).toMatch(/\sfailed\s+media: get_cos_sig failed$/);
    expect(lines.find((l) => l.includes("pending"))).toMatch(/\s-\s*$/);
    expect(lines.at(-1)).toBe(
      "3 hour(s): 2 archived, 1 pending; 2 file(s), 200 B; media 12 captured, 1 missing, 0 refused, 2.0 KiB fetched, 1 hour(s) failed",
    );
  });

  it("has no media column when media were not captured (--no-media)", () => {
    expect(renderArchiveSummary([row("archived")])).not.toContain("media");
  });
});

describe("failedRow", () => {
  const hour = { msgTime: "2024050101", chatType: "C2C" } as const;

  it("shows the attempts the failing file took, not 0, for an hour that failed its downloads", () => {
    const error = new ArchiveFailedError("C2C 2024050101: file a.gz failed 5 attempts (last: HTTP 502)", {
      details: { key: "a.gz", attempts: 5 },
    });

    expect(failedRow(hour, error, false)).toEqual({
      ...hour,
      outcome: "failed",
      files: 0,
      bytes: 0,
      attempts: 5,
      error: "C2C 2024050101: file a.gz failed 5 attempts (last: HTTP 502)",
    });
  });

  it("shows 0 attempts when Tencent refused before any download", () => {
    const error = new ImApiError({ command: "get_history", code: 70009, info: "bad sig", retryable: false });

    expect(failedRow(hour, error, false)).toMatchObject({ outcome: "failed", attempts: 0 });
  });
});
