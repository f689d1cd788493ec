import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.ts";
import {
  addHours,
  formatBeijing,
  hourEnd,
  hourOf,
  hourParts,
  hourRange,
  hourStart,
  isMsgTime,
  parseBeijing,
  parseMsgTime,
} from "./msgtime.ts";

const utc = (text: string) => Date.parse(text);

describe("MsgTime (Beijing hours)", () => {
  it("puts Tencent's own example MsgTimestamp 1448974806 in MsgTime 2015120121", () => {
    const instant = 1448974806 * 1000;
    expect(hourOf(instant)).toBe("2015120121");
    expect(hourStart("2015120121")).toBeLessThanOrEqual(instant);
    expect(hourEnd("2015120121")).toBeGreaterThan(instant);
    expect(formatBeijing(instant)).toBe("2015-12-01 21:00:06");
  });

  it.each([
    // [instant (UTC), Beijing hour]
    ["2024-01-01T15:59:59.999Z", "2024010123"], // last ms of a Beijing day
    ["2024-01-01T16:00:00.000Z", "2024010200"],
    ["2023-12-31T16:00:00.000Z", "2024010100"], // new year in Beijing, still 2023 in UTC
    ["2023-12-31T15:59:59.999Z", "2023123123"], // last ms of a Beijing year
    ["2024-02-28T16:00:00.000Z", "2024022900"], // leap day
    ["2024-02-29T15:59:59.999Z", "2024022923"],
    ["2024-02-29T16:00:00.000Z", "2024030100"],
    ["2023-02-28T16:00:00.000Z", "2023030100"], // no leap day
    ["2024-04-30T16:00:00.000Z", "2024050100"], // 30-day month ends
    ["2024-06-15T00:00:00.000Z", "2024061508"], // UTC midnight = 08 Beijing
    ["2024-06-14T23:59:59.999Z", "2024061507"],
    ["1970-01-01T00:00:00.000Z", "1970010108"],
  ])("hourOf(%s) is %s", (iso, msgTime) => {
    expect(hourOf(utc(iso))).toBe(msgTime);
  });

  it("gives each hour a start at Beijing hh:00 and an exclusive end one hour later", () => {
    expect(hourStart("2024010100")).toBe(utc("2023-12-31T16:00:00Z"));
    expect(hourEnd("2024010100")).toBe(utc("2023-12-31T17:00:00Z"));
    expect(hourStart("2024022923")).toBe(utc("2024-02-29T15:00:00Z"));
    expect(hourEnd("2024022923") - hourStart("2024022923")).toBe(3_600_000);
    expect(hourOf(hourEnd("2024022923"))).toBe("2024030100");
    expect(hourOf(hourEnd("2024022923") - 1)).toBe("2024022923");
  });

  it("accepts real dates and hours and returns them unchanged", () => {
    for (const t of ["2024022900", "2000022923", "2023123123", "2015120121", "1999010100"]) {
      expect(parseMsgTime(t)).toBe(t);
      expect(isMsgTime(t)).toBe(true);
    }
  });

  it.each([
    ["2023022900", /day 29 does not exist in 2023-02/],
    ["1900022900", /day 29 does not exist in 1900-02/], // century, not a leap year
    ["2024013124", /hour 24 is not 00-23/],
    ["2024043100", /day 31 does not exist in 2024-04/],
    ["2024130100", /month 13 is not 01-12/],
    ["2024000100", /month 00 is not 01-12/],
    ["2024010000", /day 00 does not exist/],
    ["202401010", /not 10 digits/],
    ["20240101000", /not 10 digits/],
    ["2024-01-01", /not 10 digits/],
    ["20240101ab", /not 10 digits/],
    [" 2024010100", /not 10 digits/],
    ["２０２４０１０１００", /not 10 digits/], // full-width digits
    ["", /not 10 digits/],
  ])("rejects %j with a ValidationError saying %s", (text, message) => {
    expect(() => parseMsgTime(text)).toThrow(ValidationError);
    expect(() => parseMsgTime(text)).toThrow(message);
    expect(isMsgTime(text)).toBe(false);
  });

  it("adds and subtracts hours across day, month, year and leap-day boundaries", () => {
    expect(addHours("2023123123", 1)).toBe("2024010100");
    expect(addHours("2024010100", -1)).toBe("2023123123");
    expect(addHours("2024022823", 1)).toBe("2024022900");
    expect(addHours("2024022923", 1)).toBe("2024030100");
    expect(addHours("2023022823", 1)).toBe("2023030100");
    expect(addHours("2024030100", -25)).toBe("2024022823");
    expect(addHours("2024010100", 0)).toBe("2024010100");
    expect(addHours("2024010100", 24 * 366)).toBe("2025010100");
    expect(() => addHours("2024010100", 1.5)).toThrow(ValidationError);
    expect(() => addHours("2024013124", 1)).toThrow(ValidationError);
  });

  it("lists an hour range with both ends inclusive across a year end", () => {
    expect(hourRange("2023123122", "2024010101")).toEqual([
      "2023123122",
      "2023123123",
      "2024010100",
      "2024010101",
    ]);
    expect(hourRange("2024022912", "2024022912")).toEqual(["2024022912"]);
    expect(hourRange("2024022800", "2024030100")).toHaveLength(24 * 2 + 1);
  });

  it("refuses an hour range whose start is after its end", () => {
    expect(() => hourRange("2024010101", "2024010100")).toThrow(ValidationError);
    expect(() => hourRange("2024010101", "2024010100")).toThrow(/start is after the end/);
  });

  it("splits an hour into the storage layout's dt and hour", () => {
    expect(hourParts("2024022905")).toEqual({ dt: "2024-02-29", hour: "05" });
    expect(hourParts("2015120121")).toEqual({ dt: "2015-12-01", hour: "21" });
    expect(() => hourParts("2023022905")).toThrow(ValidationError);
  });

  it("formats an instant as Beijing wall-clock text, dropping milliseconds", () => {
    expect(formatBeijing(utc("2015-12-02T08:45:23.999Z"))).toBe("2015-12-02 16:45:23");
    expect(formatBeijing(utc("2023-12-31T16:00:00Z"))).toBe("2024-01-01 00:00:00");
    expect(formatBeijing(utc("2024-02-29T15:59:59Z"))).toBe("2024-02-29 23:59:59");
    expect(() => formatBeijing(Number.NaN)).toThrow(ValidationError);
  });

  it("parses Beijing wall-clock text back to the instant (Tencent's ExpireTime example)", () => {
    expect(parseBeijing("2015-12-02 16:45:23")).toBe(utc("2015-12-02T08:45:23Z"));
    expect(parseBeijing("2024-01-01 00:00:00")).toBe(utc("2023-12-31T16:00:00Z"));
    expect(parseBeijing("2024-02-29 23:59:59")).toBe(utc("2024-02-29T15:59:59Z"));
    for (const instant of [0, 1448974806000, utc("2024-02-29T15:59:59Z"), utc("2038-01-19T03:14:07Z")]) {
      expect(parseBeijing(formatBeijing(instant))).toBe(instant);
    }
  });

  it.each([
    ["2015-12-02T16:45:23", /is not "YYYY-MM-DD HH:mm:ss"/],
    ["2015-12-02 16:45", /is not "YYYY-MM-DD HH:mm:ss"/],
    ["2015-12-02 16:45:23 ", /is not "YYYY-MM-DD HH:mm:ss"/],
    ["2015-12-02 16:45:23.000", /is not "YYYY-MM-DD HH:mm:ss"/],
    ["", /is not "YYYY-MM-DD HH:mm:ss"/],
    ["2023-02-29 00:00:00", /day 29 does not exist/],
    ["2015-12-02 24:00:00", /hour 24/],
    ["2015-12-02 23:60:00", /minute 60/],
    ["2015-12-02 23:59:60", /second 60/],
  ])("rejects the Beijing time %j with a ValidationError saying %s", (text, message) => {
    expect(() => parseBeijing(text)).toThrow(ValidationError);
    expect(() => parseBeijing(text)).toThrow(message);
  });
});
