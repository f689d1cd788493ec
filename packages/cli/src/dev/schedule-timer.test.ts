import { describe, expect, it } from "vitest";
import { nextScheduleRun } from "./schedule-timer.ts";

const at = (iso: string) => Date.parse(iso);

describe("nextScheduleRun", () => {
  it("is minute 5 of this hour before it, and of the next hour from it on", () => {
    expect(nextScheduleRun(at("2024-05-01T10:04:59.999Z"))).toBe(at("2024-05-01T10:05:00Z"));
    expect(nextScheduleRun(at("2024-05-01T10:05:00Z"))).toBe(at("2024-05-01T11:05:00Z"));
    expect(nextScheduleRun(at("2024-05-01T10:59:00Z"))).toBe(at("2024-05-01T11:05:00Z"));
  });

  it("crosses the day like Beijing's midnight, which is 16:00 UTC (minute 5 is the same in both)", () => {
    expect(nextScheduleRun(at("2024-05-01T15:30:00Z"))).toBe(at("2024-05-01T16:05:00Z"));
    expect(nextScheduleRun(at("2024-05-01T23:06:00Z"))).toBe(at("2024-05-02T00:05:00Z"));
  });
});
