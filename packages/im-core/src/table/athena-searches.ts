/**
 * The search port in AWS: each search is one Athena query over the Glue `messages` table (partition
 * projection finds the files). `start` sends the statement of search-sql.ts with its values as
 * execution parameters and answers the QueryExecutionId; `page` maps the query's state to the port's
 * and gives its rows a page at a time (GetQueryResults with NextToken), in the shapes the DuckDB
 * adapter gives: BIGINTs as JSON numbers while exact, `ts` as `YYYY-MM-DD HH:MM:SS`, the list columns
 * as arrays, NULL as null.
 */
import type {
  Datum,
  GetQueryExecutionCommand,
  GetQueryExecutionCommandOutput,
  GetQueryResultsCommand,
  GetQueryResultsCommandOutput,
  StartQueryExecutionCommand,
  StartQueryExecutionCommandOutput,
} from "@aws-sdk/client-athena";
import { NotFoundError, ValidationError } from "../errors.ts";
import { athenaExecutionParameters, buildSearchSql, type MessageSearch } from "./search-sql.ts";
import type { SearchPage, SearchService } from "./searches.ts";

/**
 * The Athena SDK, loaded at the first search rather than at the API function's cold start (which
 * most requests, never searching, would pay): the Lambda runtime provides it, and esbuild leaves a
 * dynamic import of it as one.
 */
let sdk: Promise<typeof import("@aws-sdk/client-athena")> | undefined;
export const athenaSdk = () => {
  sdk ??= import("@aws-sdk/client-athena");
  return sdk;
};

/** What this adapter asks of an AthenaClient (which satisfies it); tests give a fake. */
export interface AthenaSender {
  send(command: StartQueryExecutionCommand): Promise<StartQueryExecutionCommandOutput>;
  send(command: GetQueryExecutionCommand): Promise<GetQueryExecutionCommandOutput>;
  send(command: GetQueryResultsCommand): Promise<GetQueryResultsCommandOutput>;
}

export interface AthenaSearchesOptions {
  client: AthenaSender;
  /** The workgroup (its results location and bytes-scanned limit apply to every search). */
  workgroup: string;
  /** The Glue database holding the `messages` table. */
  database: string;
  /** Rows one search gives at most; past it the search is marked truncated. Default 10,000. */
  maxRows?: number;
  /** Rows per page (GetQueryResults takes at most 1,000). Default 500. */
  pageSize?: number;
}

/** Where a page starts: Athena's NextToken (none = the first page) and the rows given before it. */
interface Cursor {
  n: number;
  t?: string;
}

const QUERY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BIG_INTEGER_TYPES = new Set(["bigint", "integer", "int", "smallint", "tinyint"]);
const JSON_COLUMNS = new Set(["msg_types", "media_urls"]);

export class AthenaSearches implements SearchService {
  readonly #o: Required<AthenaSearchesOptions>;

  constructor(options: AthenaSearchesOptions) {
    this.#o = { maxRows: 10_000, pageSize: 500, ...options };
    if (!(this.#o.pageSize >= 1 && this.#o.pageSize <= 999)) throw new RangeError("pageSize: 1 to 999");
  }

  async start(search: MessageSearch, _caller: { keyName: string }): Promise<{ id: string }> {
    // One row past maxRows tells a truncated search from one that had exactly maxRows.
    const limit = Math.min(search.limit ?? Number.POSITIVE_INFINITY, this.#o.maxRows + 1);
    const { sql, params } = buildSearchSql({ ...search, limit }, { dialect: "athena", names: "fields" });
    const parameters = athenaExecutionParameters(params);
    const { StartQueryExecutionCommand } = await athenaSdk();
    const out = await this.#o.client.send(
      new StartQueryExecutionCommand({
        QueryString: sql,
        QueryExecutionContext: { Database: this.#o.database },
        WorkGroup: this.#o.workgroup,
        ...(parameters.length === 0 ? {} : { ExecutionParameters: parameters }),
      }),
    );
    if (out.QueryExecutionId === undefined) throw new Error("Athena started no query (no QueryExecutionId)");
    return { id: out.QueryExecutionId };
  }

  async page(id: string, cursor: string | undefined): Promise<SearchPage> {
    const notFound = () => new NotFoundError(`no search ${id} (search results are kept a limited time)`);
    if (!QUERY_ID.test(id)) throw notFound();
    const at = decodeCursor(cursor);
    const { GetQueryExecutionCommand, GetQueryResultsCommand } = await athenaSdk();
    let execution: GetQueryExecutionCommandOutput["QueryExecution"];
    try {
      ({ QueryExecution: execution } = await this.#o.client.send(
        new GetQueryExecutionCommand({ QueryExecutionId: id }),
      ));
    } catch (error) {
      // Athena's answer to an id it does not know (or a malformed one).
      if (error instanceof Error && error.name === "InvalidRequestException") throw notFound();
      throw error;
    }
    // Another workgroup's query is none of this API's business.
    if (execution === undefined || execution.WorkGroup !== this.#o.workgroup) throw notFound();
    const state = execution.Status?.State;
    if (state === "QUEUED" || state === "RUNNING" || state === undefined) {
      return { state: "running", rows: [], nextCursor: encodeCursor(at) };
    }
    if (state !== "SUCCEEDED") {
      const reason = execution.Status?.StateChangeReason ?? execution.Status?.AthenaError?.ErrorMessage;
      return {
        state: "failed",
        rows: [],
        nextCursor: null,
        error: `Athena ${state === "CANCELLED" ? "cancelled" : "failed"} the search${reason ? `: ${reason}` : ""}`,
      };
    }
    const first = at.t === undefined;
    const results = await this.#o.client.send(
      new GetQueryResultsCommand({
        QueryExecutionId: id,
        // The first page starts with the header row.
        MaxResults: this.#o.pageSize + (first ? 1 : 0),
        ...(first ? {} : { NextToken: at.t }),
      }),
    );
    const info = results.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
    const names = info.map((c) => c.Name ?? "");
    let data = results.ResultSet?.Rows ?? [];
    if (first && data.length > 0 && isHeader(data[0]?.Data ?? [], names)) data = data.slice(1);
    let rows = data.map((r) => toRow(r.Data ?? [], info));
    const room = this.#o.maxRows - at.n;
    const truncated = rows.length > room;
    if (truncated) rows = rows.slice(0, Math.max(0, room));
    const next = results.NextToken;
    return {
      state: "succeeded",
      rows,
      nextCursor: truncated || next === undefined ? null : encodeCursor({ n: at.n + rows.length, t: next }),
      ...(truncated ? { truncated: true } : {}),
    };
  }
}

function isHeader(data: Datum[], names: string[]): boolean {
  return data.length === names.length && data.every((d, i) => d.VarCharValue === names[i]);
}

/** One result row as the DuckDB adapter gives it (Athena answers every value as text); exported for the export source. */
export function toRow(data: Datum[], info: { Name?: string; Type?: string }[]): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  info.forEach((column, i) => {
    const name = column.Name ?? `_${i}`;
    row[name] = athenaValue(data[i]?.VarCharValue, name, (column.Type ?? "varchar").toLowerCase());
  });
  return row;
}

/** Exported for its tests. */
export function athenaValue(text: string | undefined, column: string, type: string): unknown {
  if (text === undefined) return null;
  if (BIG_INTEGER_TYPES.has(type)) {
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : text;
  }
  // Athena writes `2015-12-01 13:00:05.000`; DuckDB `2015-12-01 13:00:05` (fractions only when some).
  if (type.startsWith("timestamp")) return text.replace(/\.0+$/, "").replace(/(\.\d*?)0+$/, "$1");
  if (JSON_COLUMNS.has(column)) return JSON.parse(text) as unknown;
  return text;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

function decodeCursor(cursor: string | undefined): Cursor {
  if (cursor === undefined || cursor === "") return { n: 0 };
  const bad = () => new ValidationError("cursor must be a nextCursor this API gave");
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw bad();
  }
  if (typeof value !== "object" || value === null) throw bad();
  const { n, t } = value as { n?: unknown; t?: unknown };
  if (!Number.isSafeInteger(n) || (n as number) < 0) throw bad();
  if (t !== undefined && (typeof t !== "string" || t === "")) throw bad();
  return t === undefined ? { n: n as number } : { n: n as number, t };
}
