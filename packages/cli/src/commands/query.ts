import { join } from "node:path";
import { buildSearchSql, ConfigError, type MessageSearch, TABLE_PREFIX } from "@imvault/im-core";
import { loadStoreConfig } from "@imvault/runtime";
import { EXIT, type ExitCode } from "../exit-codes.ts";
import { printRows, type RowFormat } from "../rows-output.ts";
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
  const { format, ...search } = options;
  const statement = buildSearchSql(search, { dialect: "duckdb" });
  return runOnTable(terminal, format, (table) => table.query(statement));
}

type Table = Awaited<ReturnType<typeof import("@imvault/im-core/duckdb").MessageTable.open>>;

async function runOnTable(
  terminal: Terminal,
  format: RowFormat | undefined,
  run: (table: Table) => ReturnType<Table["query"]>,
): Promise<ExitCode> {
  const store = loadStoreConfig();
  if (store.kind !== "local") {
    throw new ConfigError(
      "ARCHIVE_BUCKET",
      "is set: imvault query and search read the table under DATA_DIR; in AWS, query it with Athena",
    );
  }
  const { MessageTable } = await import("@imvault/im-core/duckdb");
  // Not closed: the process ends with the command, and closing DuckDB would add ~0.1 s to it.
  const table = await MessageTable.open(join(store.dataDir, TABLE_PREFIX));
  const result = await run(table);
  const count = await printRows(
    result.columns,
    result.batches,
    format ?? (terminal.outIsTerminal ? "table" : "ndjson"),
    terminal.out,
  );
  if (terminal.interactive) terminal.err(`${count} row(s)`);
  return EXIT.ok;
}
