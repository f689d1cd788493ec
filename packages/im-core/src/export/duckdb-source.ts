/** The export's message source on one machine: the DuckDB message table (duckdb entry point only). */

import type { ChatType } from "../im/types.ts";
import { MessageTable } from "../table/duckdb.ts";
import { buildSearchSql, type MessageSearch } from "../table/search-sql.ts";
import type { ExportRow, ExportSource, SliceCount } from "./source.ts";

const EXPORT_ORDER = "e.dt, e.conversation, e.chat_type, e.msg_time, e.source_key, e.line";

/** The rows `search` selects, in the order an export slices them, from the table under tablesDir. */
export async function openDuckdbExportSource(
  tablesDir: string,
  search: MessageSearch,
): Promise<ExportSource & { close(): void }> {
  const table = await MessageTable.open(tablesDir);
  const base = buildSearchSql(search, { dialect: "duckdb" });
  const all = async <T>(sql: string, params: string[]): Promise<T[]> => {
    const out: T[] = [];
    for await (const batch of (await table.query({ sql, params })).batches) out.push(...(batch as T[]));
    return out;
  };
  return {
    async extent() {
      const [row] = await all<{ first: string | null; last: string | null }>(
        "SELECT min(msg_time) AS first, max(msg_time) AS last FROM messages",
        [],
      );
      return row?.first == null || row.last == null ? undefined : { first: row.first, last: row.last };
    },
    async counts() {
      const rows = await all<{ dt: string; chat_type: ChatType; conversation: string | null; n: number }>(
        `SELECT e.dt, e.conversation, e.chat_type, count(*) AS n FROM (\n${base.sql}\n) AS e GROUP BY ALL ORDER BY e.dt, e.conversation, e.chat_type`,
        base.params,
      );
      return rows.map(
        (r): SliceCount => ({ dt: r.dt, chatType: r.chat_type, conversation: r.conversation, messages: r.n }),
      );
    },
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
