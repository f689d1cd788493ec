import { describe, expect, it } from "vitest";
import { BEIJING_ZONE, formatBytes, formatDuration, formatInZone, hourStartMs, msgTimeAt } from "./time.ts";

describe("Beijing hours", () => {
  it("reads MsgTime as Beijing time: Tencent's example pairs 2015120121 with MsgTimestamp 1448974806", () => {
    const start = hourStartMs("2015120121");

    expect(start).toBe(Date.parse("2015-12-01T13:00:00Z"));
    expect(1448974806 * 1000 - start).toBeLessThan(3_600_000);
    expect(msgTimeAt(1448974806 * 1000)).toBe("2015120121");
  });

  it("refuses text that is no MsgTime", () => {
    expect(() => hourStartMs("2015-12-01")).toThrow(RangeError);
  });

  it("shows an instant in a zone, Beijing by name", () => {
    const ms = Date.parse("2024-03-01T10:30:00Z");
    expect(formatInZone(ms, BEIJING_ZONE)).toBe("2024-03-01 18:30 Beijing");
    expect(formatInZone(ms, "UTC", true)).toBe("2024-03-01 10:30:00 UTC");
  });
});

describe("formatDuration and formatBytes", () => {
  it("keeps the two largest units", () => {
    expect(formatDuration(4 * 86_400_000 + 2 * 3_600_000 + 59_000)).toBe("4 d 2 h");
    expect(formatDuration(3 * 3_600_000 + 20 * 60_000)).toBe("3 h 20 min");
    expect(formatDuration(45_000)).toBe("45 s");
    expect(formatDuration(-5)).toBe("0 s");
  });

  it("counts bytes in powers of 1000", () => {
    expect([formatBytes(999), formatBytes(7_800), formatBytes(37_000), formatBytes(1_200_000)]).toEqual([
      "999 B",
      "7.8 kB",
      "37 kB",
      "1.2 MB",
    ]);
  });
});
