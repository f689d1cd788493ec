/**
 * The one place that turns a message search into SQL over the `messages` table: every value the
 * caller gave becomes a `?` parameter, never text in the statement, so the same statement runs on
 * DuckDB (locally) and Athena (in AWS), which both bind positional `?` parameters. Only the list
 * membership test differs between the two dialects.
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

export function buildSearchSql(
  search: MessageSearch,
  options: { dialect?: SqlDialect; relation?: string } = {},
): SqlStatement {
  const dialect = options.dialect ?? "duckdb";
  const relation = options.relation ?? "messages";
  if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(relation)) throw new ValidationError(`bad relation name ${relation}`);
  const where: string[] = [];
  const params: string[] = [];
  const nonEmpty = (name: string, v: string | undefined): v is string => {
    if (v === undefined) return false;
    if (v.length === 0) throw new ValidationError(`--${name} must not be empty`);
    return true;
  };

  if (search.peer !== undefined && search.user === undefined) {
    throw new ValidationError("--peer needs --user: it names the other side of that user's conversation");
  }
  if (nonEmpty("user", search.user)) {
    if (nonEmpty("peer", search.peer)) {
      where.push("conversation = ?");
      params.push(c2cConversation(search.user, search.peer));
    } else {
      where.push("(from_account = ? OR to_account = ?)");
      params.push(search.user, search.user);
    }
  }
  if (nonEmpty("group", search.group)) {
    where.push("group_id = ?");
    params.push(search.group);
  }
  if (nonEmpty("text", search.text)) {
    where.push("strpos(text, ?) > 0");
    params.push(search.text);
  }
  if (nonEmpty("type", search.type)) {
    where.push(dialect === "athena" ? "contains(msg_types, ?)" : "list_contains(msg_types, ?)");
    params.push(search.type);
  }
  if (search.from !== undefined && search.to !== undefined && hourStart(search.from) > hourStart(search.to)) {
    throw new ValidationError(`--from ${search.from} is after --to ${search.to}`);
  }
  // dt (a partition) lets both engines skip whole days of files; msg_time then cuts to the hour.
  if (search.from !== undefined) {
    where.push("dt >= ?", "msg_time >= ?");
    params.push(hourParts(search.from).dt, search.from);
  }
  if (search.to !== undefined) {
    where.push("dt <= ?", "msg_time <= ?");
    params.push(hourParts(search.to).dt, search.to);
  }
  let limit = "";
  if (search.limit !== undefined) {
    if (!Number.isSafeInteger(search.limit) || search.limit < 1 || search.limit > MAX_SEARCH_LIMIT) {
      throw new ValidationError(`--limit must be a whole number from 1 to ${MAX_SEARCH_LIMIT}`);
    }
    // A checked integer, not caller text: inlined because Athena does not bind LIMIT.
    limit = `\nLIMIT ${search.limit}`;
  }
  const sql =
    `SELECT ${MESSAGE_COLUMNS.join(", ")}\nFROM ${relation}` +
    (where.length === 0 ? "" : `\nWHERE ${where.join("\n  AND ")}`) +
    "\nORDER BY msg_time, chat_type, source_key, line" +
    limit;
  return { sql, params };
}
