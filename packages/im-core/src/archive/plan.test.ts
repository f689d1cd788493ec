import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLocalStore } from "../store/local-store.ts";
import type { ArchiveStore } from "../store/port.ts";
import { coverage } from "./coverage.ts";
import { writeManifest } from "./manifest.ts";
import { defaultWindow, plan } from "./plan.ts";

// 2024-03-01 00:30 Beijing = 2024-02-29 16:30 UTC (a leap day in UTC, a month boundary in Beijing).
const NOW = Date.UTC(2024, 1, 29, 16, 30);

let dir: string;
let store: ArchiveStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "imvault-plan-"));
  store = createLocalStore({ root: dir });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const manifest = (chatType: "C2C" | "Group", msgTime: string, status: "archived" | "empty" | "expired") => ({
  version: 1 as const,
  chatType,
  msgTime,
  status,
  files: [],
  archivedAt: new Date(NOW).toISOString(),
});

describe("defaultWindow", () => {
  it("ends at the last Beijing hour that has ended and spans LOOKBACK_HOURS hours", () => {
    expect(defaultWindow(NOW, 3)).toEqual({ from: "2024022921", to: "2024022923" });
    expect(defaultWindow(NOW, 72).from).toBe("2024022700");
  });
  it("does not include the hour in progress until it has ended", () => {
    const justBeforeOneAm = Date.UTC(2024, 1, 29, 16, 59, 59, 999);
    expect(defaultWindow(justBeforeOneAm, 1)).toEqual({ from: "2024022923", to: "2024022923" });
    expect(defaultWindow(justBeforeOneAm + 1, 1)).toEqual({ from: "2024030100", to: "2024030100" });
  });
});

describe("plan", () => {
  it("lists every hour of both chat types without a manifest, oldest first", async () => {
    await writeManifest(store, manifest("C2C", "2024022923", "archived"));
    await writeManifest(store, manifest("Group", "2024022922", "empty"));

    const result = await plan(store, defaultWindow(NOW, 3), NOW, { lookbackHours: 3, settleHours: 6 });

    expect(result.jobs.map((j) => `${j.chatType}:${j.msgTime}`)).toEqual([
      "C2C:2024022921",
      "Group:2024022921",
      "C2C:2024022922",
      "Group:2024022923",
    ]);
    expect(result.skipped).toBe(2);
  });

  it("flags hours past their settle window that still have no manifest", async () => {
    const result = await plan(store, defaultWindow(NOW, 8), NOW, { lookbackHours: 8, settleHours: 6 });
    // At 00:30, hours 16 and 17 ended 7.5 and 6.5 hours ago: past the 6 h settle window; 18 is not.
    expect(result.missingPastSettle.map((j) => j.msgTime)).toEqual([
      "2024022916",
      "2024022916",
      "2024022917",
      "2024022917",
    ]);
  });
});

describe("coverage", () => {
  it("reports each hour's manifest status and missing where there is none", async () => {
    await writeManifest(store, manifest("C2C", "2024030100", "expired"));

    const cov = await coverage(store, { from: "2024022923", to: "2024030100" }, ["C2C"]);

    expect(cov.rows.map((r) => [r.msgTime, r.status])).toEqual([
      ["2024022923", "missing"],
      ["2024030100", "expired"],
    ]);
    expect(cov.totals).toEqual({ archived: 0, empty: 0, expired: 1, missing: 1 });
  });
});
