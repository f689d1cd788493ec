import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StartQueryExecutionCommandInput } from "@aws-sdk/client-athena";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ATHENA_MESSAGE_COLUMNS, athenaMessageRow, FakeAthena } from "../../testing/athena.ts";
import { verifyExport } from "../export/manifest.ts";
import { exportSearch } from "../export/request.ts";
import { runExport } from "../export/run-export.ts";
import { createLocalStore } from "../store/local-store.ts";
import { athenaExportSource } from "./athena-export-source.ts";
import { buildSearchSql } from "./search-sql.ts";

const ROWS = 5;

/** Athena's answers to the source's three statements: the table's extent, the counts, the rows. */
function answer(input: StartQueryExecutionCommandInput) {
  const sql = input.QueryString ?? "";
  if (sql.startsWith("SELECT min(msg_time)")) {
    return {
      columns: [
        { Name: "first", Type: "varchar" },
        { Name: "last", Type: "varchar" },
      ],
      rows: [["2015120100", "2015120223"]],
    };
  }
  if (sql.includes("count(*) AS n")) {
    return {
      columns: [
        { Name: "dt", Type: "varchar" },
        { Name: "conversation", Type: "varchar" },
        { Name: "chat_type", Type: "varchar" },
        { Name: "n", Type: "bigint" },
      ],
      // One conversation per row of athenaMessageRow (u{i}|u9), one message each.
      rows: Array.from({ length: ROWS }, (_, i) => ["2015-12-01", `u${i}|u9`, "C2C", "1"]),
    };
  }
  return {
    columns: ATHENA_MESSAGE_COLUMNS,
    rows: Array.from({ length: ROWS }, (_, i) => athenaMessageRow(i)),
  };
}

describe("athenaExportSource", () => {
  let athena: FakeAthena;
  /** Each wait between polls moves every query on to SUCCEEDED, as Athena would in time. */
  const finishAll = async () => {
    for (const id of athena.queries.keys()) athena.finish(id, "SUCCEEDED");
  };
  const source = (request = { user: "u9", from: "2015120121", to: "2015120121", format: "jsonl" as const }) =>
    athenaExportSource(
      { client: athena, workgroup: "wg", database: "db", pageSize: 2, sleep: finishAll },
      exportSearch(request),
    );

  let dir: string;
  beforeEach(async () => {
    athena = new FakeAthena(answer);
    dir = await mkdtemp(join(tmpdir(), "imvault-athena-export-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("runs the search module's Athena statement, every value a parameter, in export order", async () => {
    const batches = [];
    for await (const batch of source().rows()) batches.push(batch);

    const start = athena.calls.find((c) => c.command === "StartQueryExecutionCommand")!
      .input as StartQueryExecutionCommandInput;
    const base = buildSearchSql(
      exportSearch({ user: "u9", from: "2015120121", to: "2015120121", format: "jsonl" }),
      {
        dialect: "athena",
      },
    );
    expect(start.QueryString).toContain(base.sql);
    expect(start.QueryString).toMatch(
      /ORDER BY e\.dt, e\.conversation, e\.chat_type, e\.msg_time, e\.source_key, e\.line$/,
    );
    expect(start.ExecutionParameters).toEqual(base.params.map((p) => `'${p}'`));
    expect(start.WorkGroup).toBe("wg");
    expect(start.QueryExecutionContext).toEqual({ Database: "db" });
    // Polled until it finished, then read two rows a page (the header row left out).
    expect(athena.calls.map((c) => c.command)).toContain("GetQueryExecutionCommand");
    expect(batches.map((b) => b.length)).toEqual([2, 2, 1]);
    const rows = batches.flat();
    expect(rows.map((r) => r.from_account)).toEqual(["u0", "u1", "u2", "u3", "u4"]);
    expect(rows[0]).toMatchObject({
      msg_seq: "9007199254740993",
      msg_timestamp: 1448974800,
      group_id: null,
      line: 2,
    });
    expect(rows[0]!.msg_types).toEqual(["TIMTextElem"]);
  });

  it("gives the extent and the counts as the DuckDB source does", async () => {
    expect(await source().extent()).toEqual({ first: "2015120100", last: "2015120223" });
    const counts = await source().counts();
    expect(counts).toHaveLength(ROWS);
    expect(counts[0]).toEqual({ dt: "2015-12-01", chatType: "C2C", conversation: "u0|u9", messages: 1 });
  });

  it("fails with Athena's reason when the query fails", async () => {
    const failing = athenaExportSource(
      {
        client: athena,
        workgroup: "wg",
        database: "db",
        sleep: async () => {
          for (const id of athena.queries.keys())
            athena.finish(id, "FAILED", "Bytes scanned limit was exceeded");
        },
      },
      exportSearch({ user: "u9", format: "jsonl" }),
    );

    await expect(failing.counts()).rejects.toThrow(/Athena failed the export's query: Bytes scanned limit/);
  });

  it("feeds runExport: the rows Athena gave, as Tencent sent them, in an export that verifies", async () => {
    const store = createLocalStore({ root: join(dir, "data") });
    const out = join(dir, "out");

    const manifest = await runExport(
      { store, source: source(), clock: { now: () => 0, sleep: async () => {} } },
      {
        request: { user: "u9", from: "2015120121", to: "2015120121", format: "jsonl" },
        out,
        requestedBy: "ops",
        generator: "test",
      },
    );

    expect(manifest.messages).toBe(ROWS);
    expect(manifest.slices).toHaveLength(ROWS);
    expect((await verifyExport(out)).problems).toEqual([]);
    const first = await readFile(join(out, manifest.slices[0]!.file), "utf8");
    expect(first.trim()).toBe('{"MsgSeq":0}');
  });
});
