/**
 * Searches as the HTTP API runs them: started with a body, answered later by id, a page of rows at a
 * time. The port has two adapters: DuckDB over DATA_DIR's table on one machine (duckdb entry
 * point, LocalSearches) and, in AWS, Athena (StartQueryExecution / GetQueryResults with NextToken).
 */
import * as v from "valibot";
import { ValidationError } from "../errors.ts";
import type { MessageSearch } from "./search-sql.ts";

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

const text = v.pipe(v.string(), v.minLength(1), v.maxLength(1024));
const hour = v.pipe(v.string(), v.regex(/^\d{10}$/, "must be YYYYMMDDHH"));
const searchSchema = v.strictObject({
  user: v.optional(text),
  peer: v.optional(text),
  group: v.optional(text),
  text: v.optional(text),
  type: v.optional(text),
  from: v.optional(hour),
  to: v.optional(hour),
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
});

/** A `POST /v1/searches` body as a MessageSearch; ValidationError naming each bad field. */
export function parseSearchBody(body: unknown): MessageSearch {
  const parsed = v.safeParse(searchSchema, body);
  if (!parsed.success) {
    throw new ValidationError("the search is malformed", {
      issues: parsed.issues.map((i) => `${v.getDotPath(i) ?? "(body)"}: ${i.message}`),
    });
  }
  return Object.fromEntries(
    Object.entries(parsed.output).filter(([, x]) => x !== undefined),
  ) as MessageSearch;
}
