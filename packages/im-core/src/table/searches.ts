/**
 * Searches as the HTTP API runs them: started with a body, answered later by id, a page of rows at a
 * time. The port has two adapters: DuckDB over DATA_DIR's table on one machine (duckdb entry
 * point, LocalSearches) and, in AWS, Athena (athena entry point, AthenaSearches:
 * StartQueryExecution / GetQueryResults with NextToken). Both take the same MessageSearch and give
 * the same page and row shapes (the schemas below, which the OpenAPI document is made of).
 */
import * as v from "valibot";
import { ValidationError } from "../errors.ts";
import type { Caller } from "../lookup/lookup.ts";
import { isMsgTime } from "../time/msgtime.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import { MAX_SEARCH_LIMIT, type MessageSearch } from "./search-sql.ts";

export type SearchState = "running" | "succeeded" | "failed";

export interface SearchPage {
  state: SearchState;
  rows: Record<string, unknown>[];
  /** Give it back as `cursor` for the next page; null once every row has been given. */
  nextCursor: string | null;
  /** Why the search failed (state "failed"). */
  error?: string;
  /** The search matched more rows than are kept; only the first are given. */
  truncated?: boolean;
}

export interface SearchService {
  start(search: MessageSearch, caller: { keyName: string }): Promise<{ id: string }>;
  /** Throws NotFoundError for an unknown (or expired) id, ValidationError for a bad cursor. */
  page(id: string, cursor: string | undefined): Promise<SearchPage>;
}

const text = (description: string) =>
  v.pipe(v.string(), v.minLength(1), v.maxLength(1024), v.description(description));
const hour = (description: string) =>
  v.pipe(
    v.string(),
    v.regex(/^\d{10}$/, "must be YYYYMMDDHH (a Beijing hour)"),
    v.check(isMsgTime, "is not a real hour (YYYYMMDDHH, Beijing)"),
    v.description(description),
  );

/**
 * A `POST /v1/searches` body: the filters of `imvault search`, by the same names. Through the API a
 * window is required (`from` and `to`): a search without one would read the whole table.
 */
export const SearchRequestSchema = v.strictObject({
  user: v.optional(text("Every message this account sent or received (C2C), or sent (Group)")),
  peer: v.optional(text("With user: only their one-to-one conversation with this account")),
  group: v.optional(text("Messages of this group")),
  text: v.optional(text("A substring of the message text, matched as is (no stemming: fine for CJK)")),
  type: v.optional(text("A MsgType the message holds, e.g. TIMImageElem")),
  from: hour("The first Beijing hour searched, YYYYMMDDHH, inclusive"),
  to: hour("The last Beijing hour searched, YYYYMMDDHH, inclusive"),
  limit: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(1),
      v.maxValue(MAX_SEARCH_LIMIT),
      v.description("The most rows to give (the oldest first)"),
    ),
  ),
});

export const SearchStartedSchema = v.object({
  id: v.pipe(v.string(), v.minLength(1), v.description("GET /v1/searches/{id} answers the search")),
});

const nullableText = v.nullable(v.string());
/** BIGINT columns: a JSON number while exact, past 2^53 its digits in a string. */
const bigint = v.union([v.pipe(v.number(), v.integer()), v.pipe(v.string(), v.regex(/^-?\d+$/))]);

/** One row of a search: the message table's columns (SPEC.md "Message table"). */
export const SearchRowSchema = v.object({
  chat_type: v.picklist(["C2C", "Group"]),
  msg_time: v.string(),
  dt: v.string(),
  hour: v.string(),
  msg_timestamp: v.nullable(bigint),
  ts: v.pipe(nullableText, v.description("UTC, YYYY-MM-DD HH:MM:SS")),
  from_account: nullableText,
  to_account: nullableText,
  group_id: nullableText,
  conversation: nullableText,
  msg_seq: v.nullable(bigint),
  msg_random: v.nullable(bigint),
  msg_types: v.array(v.string()),
  text: nullableText,
  media_urls: v.array(v.string()),
  raw: v.pipe(v.string(), v.description("The message's JSON text, exactly as in the raw file")),
  source_key: v.string(),
  line: bigint,
});

export const SearchPageSchema = v.object({
  state: v.picklist(["running", "succeeded", "failed"]),
  rows: v.array(SearchRowSchema),
  nextCursor: v.pipe(
    v.nullable(v.string()),
    v.description("Give it back as ?cursor= for the next page; null once every row has been given"),
  ),
  error: v.optional(v.string()),
  truncated: v.optional(v.boolean()),
});

/** A `POST /v1/searches` body as a MessageSearch; ValidationError naming each bad field. */
export function parseSearchBody(body: unknown): MessageSearch {
  if (typeof body === "object" && body !== null && !Array.isArray(body)) {
    const missing = ["from", "to"].filter((k) => (body as Record<string, unknown>)[k] === undefined);
    if (missing.length > 0) {
      throw new ValidationError(
        `a search through the API needs a window: give from and to (Beijing hours, YYYYMMDDHH); ${missing.join(" and ")} missing`,
        { missing },
      );
    }
  }
  const parsed = v.safeParse(SearchRequestSchema, body);
  if (!parsed.success) {
    throw new ValidationError("the search is malformed", {
      issues: parsed.issues.map((i) => `${v.getDotPath(i) ?? "(body)"}: ${i.message}`),
    });
  }
  return Object.fromEntries(
    Object.entries(parsed.output).filter(([, x]) => x !== undefined),
  ) as MessageSearch;
}

export const SEARCH_AUDIT_MESSAGE = "message search";

/**
 * Starts a search on the port and writes exactly one audit line, whether it started or not: who
 * (the key's name, the request id), what they searched for (the filters as given), and its id.
 */
export async function startSearch(
  deps: { searches: SearchService; logger: Logger; clock: Clock },
  search: MessageSearch,
  caller: Caller,
): Promise<{ id: string }> {
  const started = deps.clock.now();
  const audit = { audit: true, keyName: caller.keyName, requestId: caller.requestId, search };
  try {
    const { id } = await deps.searches.start(search, { keyName: caller.keyName });
    deps.logger.info(SEARCH_AUDIT_MESSAGE, {
      ...audit,
      outcome: "ok",
      id,
      durationMs: deps.clock.now() - started,
    });
    return { id };
  } catch (error) {
    deps.logger.warn(SEARCH_AUDIT_MESSAGE, {
      ...audit,
      outcome: error instanceof ValidationError ? "refused" : "failed",
      error: error instanceof Error ? error.name : typeof error,
      durationMs: deps.clock.now() - started,
    });
    throw error;
  }
}
