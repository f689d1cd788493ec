import { InvalidArgumentError } from "commander";
import { describe, expect, it } from "vitest";
import { chatTypeArg, msgTimeArg, positiveIntArg, resolveWindow } from "./args.ts";

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
    expect(() => resolveWindow({ from: "2024050205", to: "2024050204" }, fallback)).toThrow(/after --to/);
    expect(() => resolveWindow({ from: "2024010100", to: "2024050100" }, fallback)).toThrow(/at most 744/);
  });
});
