import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.ts";
import { buildSearchSql } from "./search-sql.ts";

describe("buildSearchSql", () => {
  it("puts every caller value in a parameter, never in the statement", () => {
    const evil = "x' OR 1=1 --";

    const { sql, params } = buildSearchSql({ user: evil, text: evil, group: evil, type: evil });

    expect(sql).not.toContain(evil);
    expect(sql).toContain(
      "WHERE (from_account = ? OR to_account = ?)\n  AND group_id = ?\n  AND strpos(text, ?) > 0\n  AND list_contains(msg_types, ?)",
    );
    expect(params).toEqual([evil, evil, evil, evil, evil]);
    expect(sql.split("?").length - 1).toBe(params.length);
  });

  it("turns --user with --peer into the conversation key and a window into dt and msg_time bounds", () => {
    const { sql, params } = buildSearchSql({
      user: "u9",
      peer: "u1",
      from: "2024050123",
      to: "2024050201",
      limit: 5,
    });

    expect(sql).toContain("conversation = ?");
    expect(sql).toContain("dt >= ?\n  AND msg_time >= ?\n  AND dt <= ?\n  AND msg_time <= ?");
    expect(sql.endsWith("ORDER BY msg_time, chat_type, source_key, line\nLIMIT 5")).toBe(true);
    expect(params).toEqual(["u1|u9", "2024-05-01", "2024050123", "2024-05-02", "2024050201"]);
  });

  it("uses Athena's contains() for the MsgType test and selects every column", () => {
    const { sql } = buildSearchSql(
      { type: "TIMImageElem" },
      { dialect: "athena", relation: "imvault.messages" },
    );

    expect(sql).toContain("contains(msg_types, ?)");
    expect(sql).not.toContain("list_contains");
    expect(sql).toMatch(
      /^SELECT chat_type, msg_time, dt, hour, .*, raw, source_key, line\nFROM imvault\.messages/,
    );
  });

  it.each([
    [{ peer: "u1" }, /--peer needs --user/],
    [{ text: "" }, /--text must not be empty/],
    [{ from: "2024050200", to: "2024050100" }, /after/],
    [{ limit: 0 }, /--limit/],
    [{ from: "2024023000" }, /day 30/],
  ])("refuses %o with a ValidationError", (search, message) => {
    expect(() => buildSearchSql(search)).toThrow(ValidationError);
    expect(() => buildSearchSql(search)).toThrow(message);
  });
});
