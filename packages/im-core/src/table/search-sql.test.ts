import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ValidationError } from "../errors.ts";
import {
  athenaExecutionParameters,
  buildSearchSql,
  MAX_ATHENA_PARAMETER_CHARS,
  type MessageSearch,
} from "./search-sql.ts";

/** line, chat_type, msg_time, from, to, group, text, types */
const ROWS: [number, string, string, string | null, string | null, string | null, string | null, string[]][] =
  [
    [2, "C2C", "2024050100", "u1", "u2", null, "今天天气真好", ["TIMTextElem"]],
    [3, "C2C", "2024050100", "u2", "u1", null, "ok", ["TIMTextElem", "TIMImageElem"]],
    [4, "C2C", "2024050101", "u1", "u1", null, "note to self", ["TIMTextElem"]],
    [5, "C2C", "2024050200", "u3", "u1", null, null, ["TIMSoundElem"]],
    [6, "C2C", "2024050200", "u2", "u3", null, "天气预报 날씨", ["TIMTextElem"]],
    [7, "Group", "2024050101", "u1", null, "@TGS#1", "群里天气", ["TIMTextElem"]],
    [8, "Group", "2024050201", "u4", null, "@TGS#2", "x' OR 1=1 --", ["TIMCustomElem"]],
  ];

describe("buildSearchSql", () => {
  let instance: DuckDBInstance;
  let con: Awaited<ReturnType<DuckDBInstance["connect"]>>;

  beforeAll(async () => {
    instance = await DuckDBInstance.create(":memory:");
    con = await instance.connect();
    const values = ROWS.map(
      ([line, chat, time, from, to, group, text, types]) =>
        `('${chat}', '${time}', '${time.slice(0, 4)}-${time.slice(4, 6)}-${time.slice(6, 8)}', '${time.slice(8)}', 0, NULL::TIMESTAMP, ${q(from)}, ${q(to)}, ${q(group)}, ${chat === "C2C" ? `least(${q(from)}, ${q(to)}) || '|' || greatest(${q(from)}, ${q(to)})` : q(group)}, ${line}, 0, [${types.map(q).join(", ")}]::VARCHAR[], ${q(text)}, []::VARCHAR[], '{}', 'raw/k', ${line})`,
    );
    await con.run(
      `CREATE TABLE messages AS SELECT * FROM (VALUES ${values.join(", ")}) AS t(chat_type, msg_time, dt, hour, msg_timestamp, ts, from_account, to_account, group_id, conversation, msg_seq, msg_random, msg_types, text, media_urls, raw, source_key, line)`,
    );
  });
  afterAll(() => {
    con?.closeSync();
    instance?.closeSync();
  });

  const lines = async (search: MessageSearch): Promise<number[]> => {
    const { sql, params } = buildSearchSql(search);
    const r = await con.runAndReadAll(sql, params);
    return r.getRowObjectsJS().map((row) => Number(row.line));
  };

  it.each<[string, MessageSearch, number[]]>([
    ["--user: sent or received, a note to self once", { user: "u1" }, [2, 3, 4, 7, 5]],
    ["--user --peer: their conversation, either direction", { user: "u2", peer: "u1" }, [2, 3]],
    ["--group", { group: "@TGS#1" }, [7]],
    ["--text: a Chinese substring, any chat type", { text: "天气" }, [2, 7, 6]],
    ["--text: Korean", { text: "날씨" }, [6]],
    ["--type", { type: "TIMImageElem" }, [3]],
    ["--from/--to: Beijing hours, inclusive", { from: "2024050101", to: "2024050200" }, [4, 7, 5, 6]],
    ["filters together", { user: "u1", text: "天气", to: "2024050101" }, [2, 7]],
    ["--limit keeps the oldest", { user: "u1", limit: 2 }, [2, 3]],
    ["a value that looks like SQL is only a value", { text: "x' OR 1=1 --" }, [8]],
    ["no filter: everything, by hour, chat type, file and line", {}, [2, 3, 4, 7, 5, 6, 8]],
  ])("%s", async (_, search, expected) => {
    expect(await lines(search)).toEqual(expected);
  });

  it("puts every caller value in a parameter, never in the statement", () => {
    const evil = "x' OR 1=1 --";

    const { sql, params } = buildSearchSql({ user: evil, text: evil, group: evil, type: evil });

    expect(sql).not.toContain(evil);
    expect(sql.split("?").length - 1).toBe(params.length);
    expect(params.every((p) => p === evil)).toBe(true);
  });

  it("speaks Athena: contains() for the MsgType test, a qualified relation, LIMIT inlined", () => {
    const { sql } = buildSearchSql(
      { type: "TIMImageElem", limit: 5 },
      { dialect: "athena", relation: "imvault.messages" },
    );

    expect(sql).toContain("contains(msg_types, ?)");
    expect(sql).not.toContain("list_contains");
    expect(sql).toContain("FROM imvault.messages WHERE");
    expect(sql.endsWith("\nLIMIT 5")).toBe(true);
  });

  it("has Athena answer the list columns as JSON text, the others as they are, from the same filters", () => {
    const search = { user: "u1", text: "天气", from: "2024050100", to: "2024050123" };
    const duck = buildSearchSql(search);
    const athena = buildSearchSql(search, { dialect: "athena" });

    expect(athena.params).toEqual(duck.params);
    expect(athena.sql).toContain("json_format(CAST(m.msg_types AS JSON)) AS msg_types");
    expect(athena.sql).toContain("json_format(CAST(m.media_urls AS JSON)) AS media_urls");
    expect(athena.sql).toContain("m.raw, m.source_key, m.line");
    expect(duck.sql).not.toContain("json_format");
    // Only the select list differs: the filters (and their `?`s) are the same text.
    expect(athena.sql.slice(athena.sql.indexOf("FROM ("))).toBe(duck.sql.slice(duck.sql.indexOf("FROM (")));
  });

  it("gives Athena each value as one quoted literal that no quote in it can end", () => {
    const values = ["plain", "x' OR 1=1 --", "'", "''; DROP TABLE messages; --", "天气 '날씨'", "a\\'b"];

    const literals = athenaExecutionParameters(values);

    literals.forEach((literal, i) => {
      expect(literal.startsWith("'") && literal.endsWith("'")).toBe(true);
      const body = literal.slice(1, -1);
      // Inside the quotes every ' is doubled, so none closes the literal early...
      expect(body.replaceAll("''", "")).not.toContain("'");
      // ...and reading the literal back gives exactly the value.
      expect(body.replaceAll("''", "'")).toBe(values[i]);
    });
    expect(athenaExecutionParameters(["x".repeat(MAX_ATHENA_PARAMETER_CHARS - 2)])).toHaveLength(1);
    expect(() => athenaExecutionParameters(["x".repeat(MAX_ATHENA_PARAMETER_CHARS - 1)])).toThrow(
      ValidationError,
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

function q(v: string | null): string {
  return v === null ? "NULL" : `'${v.replaceAll("'", "''")}'`;
}
