/**
 * The one place that turns a message search into SQL over the `messages` table: every value the
 * caller gave becomes a `?` parameter, never text in the statement, so the same statement runs on
 * DuckDB (locally) and Athena (in AWS), which both bind positional `?` parameters (Athena's as
 * quoted literals: athenaExecutionParameters). The dialects differ in the list membership test and
 * in how Athena answers the list columns (JSON text, which its adapter parses back into arrays).
 */
import { ValidationError } from "../errors.ts";
import { hourParts, hourStart, type MsgTime } from "../time/msgtime.ts";
import { c2cConversation, MESSAGE_COLUMNS } from "./rows.ts";

export interface MessageSearch {
  /** Every message this account sent or received (C2C), or sent (Group). */
  user?: string;
  /** With `user`: only their one-to-one conversation with this account. */
  peer?: string;
  group?: string;
  /** Substring of the message text, matched as is (no stemming, no case folding): fine for CJK. */
  text?: string;
  /** A MsgType the message holds, e.g. TIMImageElem. */
  type?: string;
  /** First and last Beijing hour, inclusive. */
  from?: MsgTime;
  to?: MsgTime;
  limit?: number;
}

export type SqlDialect = "duckdb" | "athena";

export interface SqlStatement {
  sql: string;
  params: string[];
}

/** The most rows one search may ask for. */
export const MAX_SEARCH_LIMIT = 10_000_000;

/**
 * `as: "json"` (DuckDB only) answers one BLOB column, `json`, each row as a JSON object made by DuckDB
 * in UTF-8 bytes (MessageTable.queryBytes): one value a row instead of one a column for the caller to
 * convert, and bytes to print as they are instead of a string. `inTableOrder` says that
 * `relation` yields its rows in the table's order (DuckDB's `messages` view does: duckdb.ts), so a
 * search that is one scan (all but --user without --peer) needs no sort: the rows stream out as they
 * are read, in the same order the ORDER BY gives, without DuckDB holding them all first.
 */
export function buildSearchSql(
  search: MessageSearch,
  options: {
    dialect?: SqlDialect;
    relation?: string;
    as?: "rows" | "json";
    inTableOrder?: boolean;
    /** How errors name the filters: as the command's flags (`--user`), or as the API body's fields. */
    names?: "flags" | "fields";
  } = {},
): SqlStatement {
  const say = (name: string) => (options.names === "fields" ? name : `--${name}`);
  const dialect = options.dialect ?? "duckdb";
  const relation = options.relation ?? "messages";
  if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(relation)) throw new ValidationError(`bad relation name ${relation}`);
  if (options.as === "json" && dialect !== "duckdb") throw new ValidationError("as json is DuckDB's");
  const nonEmpty = (name: string, v: string | undefined): v is string => {
    if (v === undefined) return false;
    if (v.length === 0) throw new ValidationError(`${say(name)} must not be empty`);
    return true;
  };

  // Each branch is a conjunction of one-column tests, which both engines push into the Parquet scan
  // (reading the other columns only where they match). "Sent or received" is two such branches:
  // as one OR across two columns, DuckDB read every column of every row first (5x slower).
  let branches: Cond[][] = [[]];
  if (search.peer !== undefined && search.user === undefined) {
    throw new ValidationError(
      `${say("peer")} needs ${say("user")}: it names the other side of that user's conversation`,
    );
  }
  if (nonEmpty("user", search.user)) {
    if (nonEmpty("peer", search.peer)) {
      branches = [[{ sql: "conversation = ?", params: [c2cConversation(search.user, search.peer)] }]];
    } else {
      branches = [
        [{ sql: "from_account = ?", params: [search.user] }],
        [{ sql: "to_account = ? AND from_account IS DISTINCT FROM ?", params: [search.user, search.user] }],
      ];
    }
  }
  const common: Cond[] = [];
  if (nonEmpty("group", search.group)) common.push({ sql: "group_id = ?", params: [search.group] });
  if (nonEmpty("text", search.text)) common.push({ sql: "strpos(text, ?) > 0", params: [search.text] });
  if (nonEmpty("type", search.type)) {
    common.push({
      sql: dialect === "athena" ? "contains(msg_types, ?)" : "list_contains(msg_types, ?)",
      params: [search.type],
    });
  }
  if (search.from !== undefined && search.to !== undefined && hourStart(search.from) > hourStart(search.to)) {
    throw new ValidationError(`${say("from")} ${search.from} is after ${say("to")} ${search.to}`);
  }
  // dt (a partition) lets both engines skip whole days of files; msg_time then cuts to the hour.
  if (search.from !== undefined) {
    common.push({ sql: "dt >= ? AND msg_time >= ?", params: [hourParts(search.from).dt, search.from] });
  }
  if (search.to !== undefined) {
    common.push({ sql: "dt <= ? AND msg_time <= ?", params: [hourParts(search.to).dt, search.to] });
  }
  let limit = "";
  if (search.limit !== undefined) {
    if (!Number.isSafeInteger(search.limit) || search.limit < 1 || search.limit > MAX_SEARCH_LIMIT) {
      throw new ValidationError(`${say("limit")} must be a whole number from 1 to ${MAX_SEARCH_LIMIT}`);
    }
    // A checked integer, not caller text: inlined because Athena does not bind LIMIT.
    limit = `\nLIMIT ${search.limit}`;
  }
  const params: string[] = [];
  const selects = branches.map((branch) => {
    const conds = [...branch, ...common];
    for (const c of conds) params.push(...c.params);
    const where = conds.length === 0 ? "" : ` WHERE ${conds.map((c) => c.sql).join(" AND ")}`;
    return `  SELECT ${MESSAGE_COLUMNS.join(", ")} FROM ${relation}${where}`;
  });
  const outer =
    options.as === "json"
      ? "encode(to_json(m)) AS json"
      : MESSAGE_COLUMNS.map((c) => outerColumn(c, dialect)).join(", ");
  const alreadyInOrder = options.inTableOrder === true && selects.length === 1;
  const sql =
    `SELECT ${outer}\nFROM (\n${selects.join("\n  UNION ALL\n")}\n) AS m` +
    (alreadyInOrder ? "" : "\nORDER BY m.msg_time, m.chat_type, m.source_key, m.line") +
    limit;
  return { sql, params };
}

interface Cond {
  sql: string;
  params: string[];
}

/** The list columns, which Athena's results would render as `[a, b]` (ambiguous): JSON text there. */
const LIST_COLUMNS = new Set<string>(["msg_types", "media_urls"]);

function outerColumn(column: string, dialect: SqlDialect): string {
  return dialect === "athena" && LIST_COLUMNS.has(column)
    ? `json_format(CAST(m.${column} AS JSON)) AS ${column}`
    : `m.${column}`;
}

/** The most characters of one Athena execution parameter (StartQueryExecution's limit). */
export const MAX_ATHENA_PARAMETER_CHARS = 1024;

/**
 * A statement's `?` values as Athena's ExecutionParameters. Athena substitutes each one as a SQL
 * literal (a string is given with its quotes, as in `EXECUTE … USING 'x'`), so each value becomes a
 * string literal here: quoted, every `'` doubled, and nothing else allowed to end it. A value may
 * hold anything else (CJK text, `--`, `;`): inside the literal it is only text.
 */
export function athenaExecutionParameters(params: readonly string[]): string[] {
  return params.map((value) => {
    const literal = `'${value.replaceAll("'", "''")}'`;
    if (literal.length > MAX_ATHENA_PARAMETER_CHARS) {
      throw new ValidationError(
        `a search value is too long for Athena (${value.length} characters; at most ${MAX_ATHENA_PARAMETER_CHARS - 2} with each ' counted twice)`,
      );
    }
    return literal;
  });
}
