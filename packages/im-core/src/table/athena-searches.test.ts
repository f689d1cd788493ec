import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { athenaMessages, FakeAthena } from "../../testing/athena.ts";
import { NotFoundError, ValidationError } from "../errors.ts";
import { AthenaSearches, athenaValue } from "./athena-searches.ts";
import { buildSearchSql } from "./search-sql.ts";
import { SearchPageSchema } from "./searches.ts";

const WORKGROUP = "imvault-test";
const DATABASE = "imvault_test";
const CALLER = { keyName: "ops" };

const fake = (rows: number) => new FakeAthena(athenaMessages(rows));

const searches = (athena: FakeAthena, options: { pageSize?: number; maxRows?: number } = {}) =>
  new AthenaSearches({ client: athena, workgroup: WORKGROUP, database: DATABASE, ...options });

/** Every page of a search, following nextCursor. */
async function allPages(service: AthenaSearches, id: string) {
  const pages = [];
  let cursor: string | undefined;
  for (let i = 0; i < 100; i++) {
    const page = await service.page(id, cursor);
    pages.push(page);
    if (page.nextCursor === null) break;
    cursor = page.nextCursor;
  }
  return pages;
}

describe("AthenaSearches", () => {
  it("starts the search module's Athena statement in the workgroup and database, every value a quoted parameter", async () => {
    const athena = fake(0);
    const evil = "x' OR 1=1 --";
    const search = { user: evil, text: "天气", from: "2024050100", to: "2024050223" };

    const { id } = await searches(athena, { maxRows: 50 }).start(search, CALLER);

    const input = athena.queries.get(id)!.input;
    const expected = buildSearchSql({ ...search, limit: 51 }, { dialect: "athena" });
    expect(input.QueryString).toBe(expected.sql);
    expect(input.QueryString).not.toContain(evil);
    expect(input.WorkGroup).toBe(WORKGROUP);
    expect(input.QueryExecutionContext).toEqual({ Database: DATABASE });
    expect(input.ExecutionParameters).toEqual(expected.params.map((p) => `'${p.replaceAll("'", "''")}'`));
    expect(input.ExecutionParameters).toContain("'x'' OR 1=1 --'");
    expect(input.QueryString!.split("?").length - 1).toBe(input.ExecutionParameters!.length);
  });

  it("refuses a bad search before Athena is asked", async () => {
    const athena = fake(0);

    await expect(searches(athena).start({ peer: "u1" }, CALLER)).rejects.toThrow(ValidationError);
    await expect(searches(athena).start({ text: "'".repeat(600) }, CALLER)).rejects.toThrow(/too long/);
    expect(athena.calls).toEqual([]);
  });

  it("answers running while Athena queues or runs the query, then its rows from the first", async () => {
    const athena = fake(3);
    const service = searches(athena);
    const { id } = await service.start({ from: "2015120100", to: "2015120123" }, CALLER);

    const queued = await service.page(id, undefined);
    athena.finish(id, "RUNNING");
    const running = await service.page(id, queued.nextCursor!);
    athena.finish(id, "SUCCEEDED");
    const done = await service.page(id, running.nextCursor!);

    expect(queued).toMatchObject({ state: "running", rows: [] });
    expect(queued.nextCursor).toEqual(expect.any(String));
    expect(running).toMatchObject({ state: "running", rows: [] });
    expect(done.state).toBe("succeeded");
    expect(done.rows.map((r) => r.line)).toEqual([2, 3, 4]);
    expect(done.nextCursor).toBeNull();
  });

  it("gives every row once across pages (NextToken behind the cursor), the header row never", async () => {
    const athena = fake(12);
    const service = searches(athena, { pageSize: 5 });
    const { id } = await service.start({ from: "2015120100", to: "2015120123" }, CALLER);
    athena.finish(id, "SUCCEEDED");

    const pages = await allPages(service, id);

    expect(pages.map((p) => p.rows.length)).toEqual([5, 5, 2]);
    expect(pages.flatMap((p) => p.rows.map((r) => r.line))).toEqual(
      Array.from({ length: 12 }, (_, i) => i + 2),
    );
    const tokens = athena.calls.filter((c) => c.command === "GetQueryResultsCommand").map((c) => c.input);
    expect(tokens).toEqual([
      { QueryExecutionId: id, MaxResults: 6 },
      { QueryExecutionId: id, MaxResults: 5, NextToken: "tok-6" },
      { QueryExecutionId: id, MaxResults: 5, NextToken: "tok-11" },
    ]);
  });

  it("gives rows in the DuckDB adapter's shapes, which the API's page schema accepts", async () => {
    const athena = fake(2);
    const service = searches(athena);
    const { id } = await service.start({ from: "2015120100", to: "2015120123" }, CALLER);
    athena.finish(id, "SUCCEEDED");

    const page = await service.page(id, undefined);

    expect(page.rows[0]).toEqual({
      chat_type: "C2C",
      msg_time: "2015120121",
      dt: "2015-12-01",
      hour: "21",
      msg_timestamp: 1448974800,
      ts: "2015-12-01 13:00:00",
      from_account: "u0",
      to_account: "u9",
      group_id: null,
      conversation: "u0|u9",
      msg_seq: "9007199254740993",
      msg_random: 7,
      msg_types: ["TIMTextElem"],
      text: null,
      media_urls: [],
      raw: '{"MsgSeq":0}',
      source_key: "raw/chat_type=C2C/dt=2015-12-01/hour=21/a.gz",
      line: 2,
    });
    expect(page.rows[1]).toMatchObject({ text: "你好 'x'", msg_seq: 1 });
    expect(v.safeParse(SearchPageSchema, page).issues).toBeUndefined();
  });

  it("stops at maxRows and says the search was truncated", async () => {
    const athena = fake(8);
    const service = searches(athena, { pageSize: 3, maxRows: 7 });
    const { id } = await service.start({ from: "2015120100", to: "2015120123" }, CALLER);
    athena.finish(id, "SUCCEEDED");

    const pages = await allPages(service, id);

    expect(pages.flatMap((p) => p.rows)).toHaveLength(7);
    expect(pages.at(-1)).toMatchObject({ truncated: true, nextCursor: null });
    expect(pages.slice(0, -1).every((p) => p.truncated === undefined)).toBe(true);
  });

  it("answers failed with Athena's reason when the query failed or was cancelled (the bytes-scanned limit)", async () => {
    const athena = fake(1);
    const service = searches(athena);
    const a = await service.start({ from: "2015120100", to: "2015120123" }, CALLER);
    const b = await service.start({ from: "2015120100", to: "2015120123" }, CALLER);
    athena.finish(a.id, "FAILED", "SYNTAX_ERROR: line 1:8");
    athena.finish(b.id, "CANCELLED", "Bytes scanned limit was exceeded");

    expect(await service.page(a.id, undefined)).toEqual({
      state: "failed",
      rows: [],
      nextCursor: null,
      error: "Athena failed the search: SYNTAX_ERROR: line 1:8",
    });
    expect((await service.page(b.id, undefined)).error).toMatch(/cancelled.*Bytes scanned limit/);
  });

  it("404s an id that is no query of its workgroup, 400s a cursor it did not give", async () => {
    const athena = fake(1);
    const service = searches(athena);
    const { id } = await service.start({ from: "2015120100", to: "2015120123" }, CALLER);
    athena.finish(id, "SUCCEEDED");
    const other = await service.start({ from: "2015120100", to: "2015120123" }, CALLER);
    athena.queries.get(other.id)!.workgroup = "primary";
    const callsBefore = athena.calls.length;

    await expect(service.page("not-an-id", undefined)).rejects.toThrow(NotFoundError);
    expect(athena.calls).toHaveLength(callsBefore); // refused without asking Athena
    await expect(service.page("0f0e0d0c-0b0a-4909-8807-060504030201", undefined)).rejects.toThrow(
      NotFoundError,
    );
    await expect(service.page(other.id, undefined)).rejects.toThrow(NotFoundError);
    for (const cursor of ["%%%", Buffer.from('{"n":-1}').toString("base64url"), "e30"]) {
      await expect(service.page(id, cursor), cursor).rejects.toThrow(ValidationError);
    }
  });
});

describe("athenaValue", () => {
  it.each<[string | undefined, string, string, unknown]>([
    [undefined, "text", "varchar", null],
    ["", "text", "varchar", ""],
    ["42", "line", "bigint", 42],
    ["-9007199254740993", "msg_seq", "bigint", "-9007199254740993"],
    ["2015-12-01 13:00:05.000", "ts", "timestamp", "2015-12-01 13:00:05"],
    ["2015-12-01 13:00:05.250", "ts", "timestamp(3)", "2015-12-01 13:00:05.25"],
    ['["a, b","c"]', "media_urls", "varchar", ["a, b", "c"]],
  ])("%s (%s, %s) → %j", (text, column, type, expected) => {
    expect(athenaValue(text, column, type)).toEqual(expected);
  });
});
