import { mediaWindow, ValidationError } from "@imvault/im-core";
import { InvalidArgumentError } from "commander";
import { describe, expect, it } from "vitest";
import {
  chatTypeArg,
  checkMediaWindow,
  checkWindowReachable,
  msgTimeArg,
  positiveIntArg,
  resolveWindow,
} from "./args.ts";

describe("option parsers", () => {
  it("accepts a real Beijing hour and rejects impossible ones with the reason", () => {
    expect(msgTimeArg("2024022923")).toBe("2024022923");
    expect(() => msgTimeArg("2023022912")).toThrow(/day 29 does not exist/);
    expect(() => msgTimeArg("2024010124")).toThrow(InvalidArgumentError);
    expect(() => msgTimeArg("20240101")).toThrow(/10 digits/);
  });

  it("reads chat types case-insensitively into their canonical spelling", () => {
    expect(chatTypeArg("c2c")).toBe("C2C");
    expect(chatTypeArg("GROUP")).toBe("Group");
    expect(() => chatTypeArg("Private")).toThrow(/C2C, Group/);
  });

  it("takes whole numbers within bounds only", () => {
    const parse = positiveIntArg(32);
    expect(parse("1")).toBe(1);
    expect(parse("32")).toBe(32);
    for (const bad of ["0", "33", "-1", "2.5", "1e2", "", "four"])
      expect(() => parse(bad)).toThrow(InvalidArgumentError);
  });
});

describe("resolveWindow", () => {
  const fallback = { from: "2024050100", to: "2024050223" }; // 48 hours

  it("uses the scheduler's window when neither end is given", () => {
    expect(resolveWindow({}, fallback)).toEqual(fallback);
  });

  it("runs a given start to the default end, and ends a lookback-long window at a given end", () => {
    expect(resolveWindow({ from: "2024050212" }, fallback)).toEqual({ from: "2024050212", to: "2024050223" });
    expect(resolveWindow({ to: "2024043023" }, fallback)).toEqual({ from: "2024042900", to: "2024043023" });
  });

  it("refuses a start after the end and windows longer than the maximum", () => {
    expect(() => resolveWindow({ from: "2024050205", to: "2024050204" }, fallback)).toThrow(
      "--from 2024050205 is after --to 2024050204",
    );
    // No --to given: the message names the default end it came after.
    expect(() => resolveWindow({ from: "2024050300" }, fallback)).toThrow(
      "--from 2024050300 is after the default --to, 2024050223 (give --to)",
    );
    expect(() => resolveWindow({ from: "2024010100", to: "2024050100" }, fallback)).toThrow(/at most 744/);
  });
});

describe("checkWindowReachable", () => {
  // 2024-05-10 12:30 Beijing: the last ended hour is 2024051011.
  const NOW = Date.parse("2024-05-10T04:30:00Z");

  it("accepts a window of ended hours within the retention, without a warning", () => {
    expect(checkWindowReachable({ from: "2024050912", to: "2024051011" }, NOW, 7)).toEqual({});
  });

  it("refuses a window whose every hour ended more than the retention ago, naming the setting", () => {
    // 2024050311 ended at 2024-05-03 12:00 Beijing, 7 days and 30 minutes before now: gone.
    expect(() => checkWindowReachable({ from: "2024050100", to: "2024050311" }, NOW, 7)).toThrow(
      /every hour of 2024050100\.\.2024050311 is older than Tencent's retention \(7 days, IM_RETENTION_DAYS\).*--force/,
    );
    expect(checkWindowReachable({ from: "2024050100", to: "2024050312" }, NOW, 7).warning).toMatch(
      /^60 hour\(s\) of the window are older than Tencent's retention/,
    );
  });

  it("refuses a window reaching an hour that has not ended, naming the last one that has", () => {
    expect(() => checkWindowReachable({ from: "2024051011", to: "2024051012" }, NOW, 7)).toThrow(
      /hour 2024051012 \(Beijing\) has not ended yet.*last ended hour is 2024051011.*--force/,
    );
  });

  it("throws ValidationError, which the CLI answers with exit code 2", () => {
    expect(() => checkWindowReachable({ from: "2030010100", to: "2030010100" }, NOW, 7)).toThrow(
      ValidationError,
    );
  });
});

describe("checkMediaWindow", () => {
  // 2024-05-10 12:30 Beijing: the last ended hour is 2024051011.
  const NOW = Date.parse("2024-05-10T04:30:00Z");

  it("refuses a window reaching an hour that has not ended, with no --force to suggest", () => {
    const check = () => checkMediaWindow({ from: "2024051011", to: "2024051012" }, NOW, 7);

    expect(check).toThrow(ValidationError);
    expect(check).toThrow(
      /^hour 2024051012 \(Beijing\) has not ended yet.*last ended hour is 2024051011; end the window there$/,
    );
  });

  it("warns of hours older than Tencent keeps media, naming the setting, and of nothing within it", () => {
    expect(checkMediaWindow({ from: "2024050912", to: "2024051011" }, NOW, 7)).toEqual({});
    // The command's default window: the last 7 days of ended hours.
    expect(checkMediaWindow(mediaWindow(NOW, 7), NOW, 7)).toEqual({});
    expect(checkMediaWindow({ from: "2024050310", to: "2024050312" }, NOW, 7).warning).toMatch(
      /^2 hour\(s\) of the window are older than Tencent keeps media \(7 days, IM_MEDIA_RETENTION_DAYS\)/,
    );
  });
});
