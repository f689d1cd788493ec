import { join } from "node:path";
import { buildSearchSql, ConfigError, type MessageSearch, TABLE_PREFIX } from "@imvault/im-core";
import { loadStoreConfig } from "@imvault/runtime";
import { EXIT, type ExitCode } from "../exit-codes.ts";
import { printJsonTexts, printRows, type RowFormat } from "../rows-output.ts";
import type { Terminal } from "../terminal.ts";

export interface QueryOptions {
  format?: RowFormat;
}

/** `imvault query "SQL"`: one read-only statement over the `messages` view of DATA_DIR's table. */
export async function queryCommand(
  sql: string,
  options: QueryOptions,
  terminal: Terminal,
): Promise<ExitCode> {
  return runOnTable(terminal, options.format, (table) => table.query(sql));
}

export interface SearchOptions extends MessageSearch {
  format?: RowFormat;
}

/** `imvault search`: the messages that match every filter given, oldest first. */
export async function searchCommand(options: SearchOptions, terminal: Terminal): Promise<ExitCode> {
  const { format: given, ...search } = options;
  const format = given ?? defaultFormat(terminal);
  if (format === "json" || format === "ndjson") {
    // DuckDB writes each row's JSON itself: one value a row to carry over, not eighteen, and its
    // bytes printed as they are.
    const statement = buildSearchSql(search, { dialect: "duckdb", as: "json", inTableOrder: true });
    const table = await openTable(search);
    const count = await printJsonTexts(await table.queryBytes(statement), format, terminal.outBytes);
    if (terminal.interactive) terminal.err(`${count} row(s)`);
    return EXIT.ok;
  }
  const statement = buildSearchSql(search, { dialect: "duckdb", inTableOrder: true });
  return runOnTable(terminal, format, (table) => table.query(statement), search);
}

function defaultFormat(terminal: Terminal): RowFormat {
  return terminal.outIsTerminal ? "table" : "ndjson";
}

/**
 * DATA_DIR's table; for a search, only its files that search may match. Not closed: the process
 * ends with the command, and closing DuckDB takes ~0.1 s.
 */
async function openTable(search?: MessageSearch): Promise<Table> {
  const store = loadStoreConfig();
  if (store.kind !== "local") {
    throw new ConfigError(
      "ARCHIVE_BUCKET",
      "is set: imvault query and search read the table under DATA_DIR; in AWS, query it with Athena",
    );
  }
  const { MessageTable } = await import("@imvault/im-core/duckdb");
  return MessageTable.open(join(store.dataDir, TABLE_PREFIX), search === undefined ? {} : { search });
}

type Table = Awaited<ReturnType<typeof import("@imvault/im-core/duckdb").MessageTable.open>>;

async function runOnTable(
  terminal: Terminal,
  format: RowFormat | undefined,
  run: (table: Table) => ReturnType<Table["query"]>,
  search?: MessageSearch,
): Promise<ExitCode> {
  const table = await openTable(search);
  const result = await run(table);
  const count = await printRows(
    result.columns,
    result.batches,
    format ?? defaultFormat(terminal),
    terminal.out,
  );
  if (terminal.interactive) terminal.err(`${count} row(s)`);
  return EXIT.ok;
}
