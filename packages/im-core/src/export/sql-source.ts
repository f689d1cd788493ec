/**
 * The export's statements over the `messages` table, the same for both adapters (DuckDB on one
 * machine, Athena in AWS): each wraps search-sql.ts's statement of the request (`base`), and each
 * adapter answers them with its own `all`.
 */
import type { ChatType } from "../im/types.ts";
import type { SqlStatement } from "../table/search-sql.ts";
import type { ExportSource, SliceCount } from "./source.ts";

/** `rows` order (source.ts): day, conversation, chat type, then as the table orders them. */
export const EXPORT_ORDER = "e.dt, e.conversation, e.chat_type, e.msg_time, e.source_key, e.line";

/** Every row a statement answers, in order. */
export type AllRows = <T>(sql: string, params: readonly string[]) => Promise<T[]>;

/** `extent` and `counts` of an ExportSource, through an adapter's `all`. */
export function sqlExtentAndCounts(
  all: AllRows,
  base: SqlStatement,
): Pick<ExportSource, "extent" | "counts"> {
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
        `SELECT e.dt, e.conversation, e.chat_type, count(*) AS n FROM (\n${base.sql}\n) AS e GROUP BY e.dt, e.conversation, e.chat_type ORDER BY e.dt, e.conversation, e.chat_type`,
        base.params,
      );
      return rows.map(
        (r): SliceCount => ({ dt: r.dt, chatType: r.chat_type, conversation: r.conversation, messages: r.n }),
      );
    },
  };
}
