/** The export's message source on one machine: the DuckDB message table (duckdb entry point only). */

import { MessageTable } from "../table/duckdb.ts";
import { buildSearchSql, type MessageSearch } from "../table/search-sql.ts";
import type { ExportRow, ExportSource } from "./source.ts";
import { type AllRows, EXPORT_ORDER, sqlExtentAndCounts } from "./sql-source.ts";

/** The rows `search` selects, in the order an export slices them, from the table under tablesDir. */
export async function openDuckdbExportSource(
  tablesDir: string,
  search: MessageSearch,
): Promise<ExportSource & { close(): void }> {
  const table = await MessageTable.open(tablesDir);
  const base = buildSearchSql(search, { dialect: "duckdb" });
  const all: AllRows = async <T>(sql: string, params: readonly string[]): Promise<T[]> => {
    const out: T[] = [];
    for await (const batch of (await table.query({ sql, params: [...params] })).batches)
      out.push(...(batch as T[]));
    return out;
  };
  return {
    ...sqlExtentAndCounts(all, base),
    async *rows() {
      // One sorted query a day: DuckDB sorts (and holds) a day's rows at a time, not the whole window's.
      const days = await all<{ dt: string }>(
        `SELECT DISTINCT e.dt FROM (\n${base.sql}\n) AS e ORDER BY e.dt`,
        base.params,
      );
      for (const { dt } of days) {
        const result = await table.query({
          sql: `SELECT e.* FROM (\n${base.sql}\n) AS e WHERE e.dt = ? ORDER BY ${EXPORT_ORDER}`,
          params: [...base.params, dt],
        });
        for await (const batch of result.batches) yield batch as unknown as ExportRow[];
      }
    },
    close: () => table.close(),
  };
}
