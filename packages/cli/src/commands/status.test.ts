import type { Coverage } from "@imvault/im-core";
import { describe, expect, it } from "vitest";
import { renderStatus } from "./status.ts";

const row = (msgTime: string, chatType: "C2C" | "Group", status: Coverage["rows"][number]["status"]) => ({
  msgTime,
  chatType,
  status,
  files: status === "archived" ? 2 : 0,
  bytes: status === "archived" ? 2048 : 0,
  messages: 0,
});

describe("renderStatus", () => {
  it("shows a corrupt hour as such and counts it in the totals only when there is one", () => {
    const withCorrupt: Coverage = {
      from: "2024030116",
      to: "2024030117",
      rows: [
        row("2024030116", "C2C", "archived"),
        row("2024030116", "Group", "corrupt"),
        row("2024030117", "C2C", "missing"),
        row("2024030117", "Group", "empty"),
      ],
      totals: { archived: 1, empty: 1, expired: 0, missing: 1, corrupt: 1 },
    };
    const without: Coverage = {
      ...withCorrupt,
      rows: withCorrupt.rows.map((r) => (r.status === "corrupt" ? { ...r, status: "expired" } : r)),
      totals: { archived: 1, empty: 1, expired: 1, missing: 1 },
    };

    const lines = renderStatus(withCorrupt).split("\n");

    expect(lines.find((l) => l.startsWith("2024030116"))).toMatch(/archived\s+2 \(2\.0 KiB\)\s+corrupt/);
    expect(lines.at(-2)).toBe("2024030116..2024030117: 1 archived, 1 empty, 0 expired, 1 missing, 1 corrupt");
    expect(lines.at(-1)).toMatch(
      /^corrupt manifest: manifests\/chat_type=Group\/dt=2024-03-01\/hour=16\.json /,
    );
    expect(renderStatus(without).split("\n").at(-1)).toBe(
      "2024030116..2024030117: 1 archived, 1 empty, 1 expired, 1 missing",
    );
  });
});

describe("renderStatus with media", () => {
  it("adds a media column per chat type: counts, pending, nothing for an hour without a manifest", () => {
    const coverage: Coverage = {
      from: "2024030116",
      to: "2024030116",
      rows: [
        { ...row("2024030116", "C2C", "archived"), media: { captured: 12, missing: 1, refused: 0 } },
        { ...row("2024030116", "Group", "empty"), media: "pending" },
      ],
      totals: { archived: 1, empty: 1, expired: 0, missing: 0 },
    };
    const missing: Coverage = { ...coverage, rows: [row("2024030116", "C2C", "missing")] };

    const lines = renderStatus(coverage).split("\n");

    expect(lines[0]).toMatch(/C2C media c\/m\/r\s+Group\s+Group files\s+Group media c\/m\/r$/);
    expect(lines[1]).toMatch(/^2024030116\s+archived\s+2 \(2\.0 KiB\)\s+12\/1\/0\s+empty\s+pending$/);
    expect(renderStatus(missing)).not.toContain("media");
  });

  it("sums the window's media above the totals, saying what c/m/r stands for and how many hours are pending", () => {
    const coverage: Coverage = {
      from: "2024030115",
      to: "2024030116",
      rows: [
        { ...row("2024030115", "C2C", "archived"), media: { captured: 12, missing: 1, refused: 0 } },
        { ...row("2024030115", "Group", "archived"), media: { captured: 3, missing: 0, refused: 2 } },
        { ...row("2024030116", "C2C", "archived"), media: "pending" },
        row("2024030116", "Group", "missing"),
      ],
      totals: { archived: 3, empty: 0, expired: 0, missing: 1 },
    };

    const lines = renderStatus(coverage).split("\n");

    expect(lines.at(-2)).toBe(
      "media (c/m/r = captured/missing/refused): 15/1/2 from 2 media manifests; 1 hour and chat type pending (`imvault media` captures them)",
    );
    expect(lines.at(-1)).toBe("2024030115..2024030116: 3 archived, 0 empty, 0 expired, 1 missing");
  });
});

describe("renderStatus within SETTLE_HOURS", () => {
  it("shows a missing hour that ended less than SETTLE_HOURS ago as pending, as the console does, and says so in the totals", () => {
    const coverage: Coverage = {
      from: "2024030110",
      to: "2024030117",
      rows: [row("2024030110", "C2C", "missing"), row("2024030117", "C2C", "missing")],
      totals: { archived: 0, empty: 0, expired: 0, missing: 2 },
    };
    // 2024030117 (Beijing) ended at 10:00 UTC; 2024030110 at 03:00 UTC.
    const settle = { nowMs: Date.parse("2024-03-01T11:00:00Z"), settleHours: 6 };

    const lines = renderStatus(coverage, settle).split("\n");

    expect(lines.find((l) => l.startsWith("2024030117"))).toMatch(/^2024030117\s+pending$/);
    expect(lines.find((l) => l.startsWith("2024030110"))).toMatch(/^2024030110\s+missing$/);
    expect(lines.at(-1)).toBe(
      "2024030110..2024030117: 0 archived, 0 empty, 0 expired, 2 missing (1 of them pending: ended less than 6 h ago, SETTLE_HOURS)",
    );
    expect(renderStatus(coverage).split("\n").at(-1)).toBe(
      "2024030110..2024030117: 0 archived, 0 empty, 0 expired, 2 missing",
    );
  });
});
