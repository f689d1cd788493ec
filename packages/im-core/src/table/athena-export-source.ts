/**
 * The export's message source in AWS (export/source.ts's port): the rows of an export request from
 * Athena, with the statement of search-sql.ts (athena dialect) as the DuckDB adapter uses it, each
 * query awaited by polling and its results read a page at a time, in the DuckDB adapter's shapes.
 */
import type { GetQueryExecutionCommandOutput } from "@aws-sdk/client-athena";
import type { ExportRow, ExportSource } from "../export/source.ts";
import { type AllRows, EXPORT_ORDER, sqlExtentAndCounts } from "../export/sql-source.ts";
import { EXPORT_LIMITS } from "../schemas/limits.ts";
import { type AthenaSender, athenaSdk, toRow } from "./athena-searches.ts";
import { athenaExecutionParameters, buildSearchSql, type MessageSearch } from "./search-sql.ts";

export interface AthenaExportSourceOptions {
  client: AthenaSender;
  workgroup: string;
  database: string;
  /** Between two looks at a running query. Default EXPORT_LIMITS.athenaPollMs. */
  pollMs?: number;
  /** Rows per GetQueryResults (at most 1,000 with the header). Default EXPORT_LIMITS.athenaPageSize. */
  pageSize?: number;
  /** Waits between polls (tests give one that does not). */
  sleep?: (ms: number) => Promise<void>;
  signal?: AbortSignal;
}

export function athenaExportSource(options: AthenaExportSourceOptions, search: MessageSearch): ExportSource {
  const pollMs = options.pollMs ?? EXPORT_LIMITS.athenaPollMs;
  const pageSize = Math.min(options.pageSize ?? EXPORT_LIMITS.athenaPageSize, 999);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const base = buildSearchSql(search, { dialect: "athena" });

  /** Starts a statement and waits until Athena has finished it; throws when it failed. */
  const run = async (sql: string, params: readonly string[]): Promise<string> => {
    const sdk = await athenaSdk();
    const parameters = athenaExecutionParameters(params);
    const started = await options.client.send(
      new sdk.StartQueryExecutionCommand({
        QueryString: sql,
        QueryExecutionContext: { Database: options.database },
        WorkGroup: options.workgroup,
        ...(parameters.length === 0 ? {} : { ExecutionParameters: parameters }),
      }),
    );
    const id = started.QueryExecutionId;
    if (id === undefined) throw new Error("Athena started no query (no QueryExecutionId)");
    for (;;) {
      options.signal?.throwIfAborted();
      const { QueryExecution: execution }: GetQueryExecutionCommandOutput = await options.client.send(
        new sdk.GetQueryExecutionCommand({ QueryExecutionId: id }),
      );
      const state = execution?.Status?.State;
      if (state === "SUCCEEDED") return id;
      if (state === "FAILED" || state === "CANCELLED") {
        const reason = execution?.Status?.StateChangeReason ?? execution?.Status?.AthenaError?.ErrorMessage;
        throw new Error(
          `Athena ${state === "CANCELLED" ? "cancelled" : "failed"} the export's query${reason ? `: ${reason}` : ""}`,
        );
      }
      await sleep(pollMs);
    }
  };

  /** A finished query's rows, a page at a time (the first page's header row left out). */
  async function* pages(id: string): AsyncGenerator<Record<string, unknown>[]> {
    const { GetQueryResultsCommand } = await athenaSdk();
    let token: string | undefined;
    let first = true;
    do {
      options.signal?.throwIfAborted();
      const results = await options.client.send(
        new GetQueryResultsCommand({
          QueryExecutionId: id,
          MaxResults: pageSize + (first ? 1 : 0),
          ...(token === undefined ? {} : { NextToken: token }),
        }),
      );
      const info = results.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
      let data = results.ResultSet?.Rows ?? [];
      if (first && data.length > 0) data = data.slice(1);
      first = false;
      yield data.map((r) => toRow(r.Data ?? [], info));
      token = results.NextToken;
    } while (token !== undefined);
  }

  const all: AllRows = async <T>(sql: string, params: readonly string[]): Promise<T[]> => {
    const out: T[] = [];
    for await (const page of pages(await run(sql, params))) out.push(...(page as T[]));
    return out;
  };

  return {
    ...sqlExtentAndCounts(all, base),
    async *rows() {
      const id = await run(`SELECT e.* FROM (\n${base.sql}\n) AS e ORDER BY ${EXPORT_ORDER}`, base.params);
      for await (const page of pages(id)) yield page as unknown as ExportRow[];
    },
  };
}
