import { randomUUID } from "node:crypto";
import { NotFoundError, ValidationError } from "../errors.ts";
import type { Logger } from "../util/log.ts";
import { MessageTable } from "./duckdb.ts";
import { buildSearchSql, type MessageSearch } from "./search-sql.ts";
import type { SearchPage, SearchService, SearchState } from "./searches.ts";

interface Entry {
  state: SearchState;
  rows: Record<string, unknown>[];
  error?: string;
  truncated: boolean;
  startedAt: number;
}

export interface LocalSearchesOptions {
  /** DATA_DIR/tables/messages */
  tablesDir: string;
  /** Rows kept per search; past it the search is marked truncated. Default 10,000. */
  maxRows?: number;
  /** Rows per page. Default 500. */
  pageSize?: number;
  /** How long a search's rows are kept. Default 1 h. */
  ttlMs?: number;
  logger?: Logger;
  now?: () => number;
}

/**
 * The search port on one machine: each search runs once on DuckDB, in the background, and its rows
 * (at most maxRows) are kept in memory for ttlMs; pages are slices of them, the cursor an offset.
 */
export class LocalSearches implements SearchService {
  readonly #entries = new Map<string, Entry>();
  readonly #o: Required<Omit<LocalSearchesOptions, "logger">> & { logger?: Logger };

  constructor(options: LocalSearchesOptions) {
    this.#o = { maxRows: 10_000, pageSize: 500, ttlMs: 3_600_000, now: Date.now, ...options };
  }

  async start(search: MessageSearch, caller: { keyName: string }): Promise<{ id: string }> {
    const limit = Math.min(search.limit ?? Number.POSITIVE_INFINITY, this.#o.maxRows + 1);
    // Built now, so that a bad search is the caller's 400 rather than a failed search later.
    const statement = buildSearchSql({ ...search, limit }, { inTableOrder: true, names: "fields" });
    this.#expire();
    const id = randomUUID();
    const entry: Entry = { state: "running", rows: [], truncated: false, startedAt: this.#o.now() };
    this.#entries.set(id, entry);
    this.#o.logger?.info("search started", { id, keyName: caller.keyName });
    void this.#run(entry, statement, search);
    return { id };
  }

  async #run(
    entry: Entry,
    statement: ReturnType<typeof buildSearchSql>,
    search: MessageSearch,
  ): Promise<void> {
    let table: MessageTable | undefined;
    try {
      table = await MessageTable.open(this.#o.tablesDir, { search });
      const result = await table.query(statement);
      for await (const batch of result.batches) {
        for (const row of batch) {
          if (entry.rows.length === this.#o.maxRows) entry.truncated = true;
          else entry.rows.push(row);
        }
      }
      entry.state = "succeeded";
    } catch (error) {
      entry.state = "failed";
      entry.error = error instanceof Error ? error.message : String(error);
    } finally {
      table?.close();
    }
  }

  async page(id: string, cursor: string | undefined): Promise<SearchPage> {
    this.#expire();
    const entry = this.#entries.get(id);
    if (entry === undefined) throw new NotFoundError(`no search ${id} (searches are kept for an hour)`);
    const offset = cursor === undefined ? 0 : Number(cursor);
    if (!Number.isSafeInteger(offset) || offset < 0 || (cursor !== undefined && !/^\d+$/.test(cursor))) {
      throw new ValidationError("cursor must be a nextCursor this API gave");
    }
    const rows = entry.rows.slice(offset, offset + this.#o.pageSize);
    const end = offset + rows.length;
    const more = end < entry.rows.length || entry.state === "running";
    return {
      state: entry.state,
      rows,
      nextCursor: more ? String(end) : null,
      ...(entry.error === undefined ? {} : { error: entry.error }),
      ...(entry.truncated ? { truncated: true } : {}),
    };
  }

  #expire(): void {
    const oldest = this.#o.now() - this.#o.ttlMs;
    for (const [id, e] of this.#entries)
      if (e.state !== "running" && e.startedAt < oldest) this.#entries.delete(id);
  }
}
