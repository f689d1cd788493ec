import { describe, expect, it } from "vitest";
import { nextScheduleRun } from "./schedule-timer.ts";

const at = (iso: string) => Date.parse(iso);

describe("nextScheduleRun", () => {
  it("is just after the hour turns (second 2), then minute 5 as in AWS, then the next hour's turn", () => {
    expect(nextScheduleRun(at("2024-05-01T09:59:59.999Z"))).toBe(at("2024-05-01T10:00:02Z"));
    expect(nextScheduleRun(at("2024-05-01T10:00:02Z"))).toBe(at("2024-05-01T10:05:00Z"));
    expect(nextScheduleRun(at("2024-05-01T10:04:59.999Z"))).toBe(at("2024-05-01T10:05:00Z"));
    expect(nextScheduleRun(at("2024-05-01T10:05:00Z"))).toBe(at("2024-05-01T11:00:02Z"));
    expect(nextScheduleRun(at("2024-05-01T10:59:00Z"))).toBe(at("2024-05-01T11:00:02Z"));
  });

  it("crosses the day like Beijing's midnight, which is 16:00 UTC (minutes are the same in both)", () => {
    expect(nextScheduleRun(at("2024-05-01T15:30:00Z"))).toBe(at("2024-05-01T16:00:02Z"));
    expect(nextScheduleRun(at("2024-05-01T23:06:00Z"))).toBe(at("2024-05-02T00:00:02Z"));
  });
});
