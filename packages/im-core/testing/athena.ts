/**
 * A fake of the three Athena calls the search adapter makes, answering as Athena does: a query id,
 * the query's state, then its results as text a page at a time (the first page opening with the
 * header row; NULL as a Datum without VarCharValue; NextToken until the last page).
 */
import { randomUUID } from "node:crypto";
import {
  GetQueryExecutionCommand,
  type GetQueryExecutionCommandOutput,
  type GetQueryResultsCommand,
  type GetQueryResultsCommandOutput,
  type QueryExecutionState,
  StartQueryExecutionCommand,
  type StartQueryExecutionCommandInput,
  type StartQueryExecutionCommandOutput,
} from "@aws-sdk/client-athena";
import type { AthenaSender } from "../src/athena.ts";

export interface FakeAthenaQuery {
  input: StartQueryExecutionCommandInput;
  state: QueryExecutionState;
  reason?: string;
  /** The workgroup Athena reports for it (the one it was started in, unless a test changes it). */
  workgroup: string;
  columns: { Name: string; Type: string }[];
  /** Each row's values as Athena's text; undefined is NULL. */
  rows: (string | undefined)[][];
}

type Command = StartQueryExecutionCommand | GetQueryExecutionCommand | GetQueryResultsCommand;

export class FakeAthena implements AthenaSender {
  readonly queries = new Map<string, FakeAthenaQuery>();
  /** Every call, in order: the command's name and input. */
  readonly calls: { command: string; input: unknown }[] = [];
  readonly #answer: (input: StartQueryExecutionCommandInput) => Pick<FakeAthenaQuery, "columns" | "rows">;

  constructor(answer: (input: StartQueryExecutionCommandInput) => Pick<FakeAthenaQuery, "columns" | "rows">) {
    this.#answer = answer;
  }

  send(command: StartQueryExecutionCommand): Promise<StartQueryExecutionCommandOutput>;
  send(command: GetQueryExecutionCommand): Promise<GetQueryExecutionCommandOutput>;
  send(command: GetQueryResultsCommand): Promise<GetQueryResultsCommandOutput>;
  async send(command: Command): Promise<unknown> {
    this.calls.push({ command: command.constructor.name, input: command.input });
    const $metadata = {};
    if (command instanceof StartQueryExecutionCommand) {
      const id = randomUUID();
      this.queries.set(id, {
        input: command.input,
        state: "QUEUED",
        workgroup: command.input.WorkGroup ?? "primary",
        ...this.#answer(command.input),
      });
      return { $metadata, QueryExecutionId: id };
    }
    const id = command.input.QueryExecutionId ?? "";
    const query = this.queries.get(id);
    if (query === undefined) {
      throw Object.assign(new Error(`QueryExecution ${id} was not found`), {
        name: "InvalidRequestException",
      });
    }
    if (command instanceof GetQueryExecutionCommand) {
      return {
        $metadata,
        QueryExecution: {
          QueryExecutionId: id,
          WorkGroup: query.workgroup,
          Status: {
            State: query.state,
            ...(query.reason === undefined ? {} : { StateChangeReason: query.reason }),
          },
        },
      };
    }
    if (query.state !== "SUCCEEDED") {
      throw Object.assign(new Error(`Query has not yet finished. Current state: ${query.state}`), {
        name: "InvalidRequestException",
      });
    }
    const all = [query.columns.map((c) => c.Name), ...query.rows];
    const offset = command.input.NextToken === undefined ? 0 : Number(command.input.NextToken.slice(4));
    const max = command.input.MaxResults ?? 1000;
    const end = offset + max;
    return {
      $metadata,
      ResultSet: {
        ResultSetMetadata: { ColumnInfo: query.columns },
        Rows: all.slice(offset, end).map((row) => ({
          Data: row.map((value) => (value === undefined ? {} : { VarCharValue: value })),
        })),
      },
      ...(end < all.length ? { NextToken: `tok-${end}` } : {}),
    };
  }

  /** Moves a query on, as Athena would. */
  finish(id: string, state: QueryExecutionState, reason?: string): void {
    const query = this.queries.get(id);
    if (query === undefined) throw new Error(`no query ${id}`);
    query.state = state;
    if (reason !== undefined) query.reason = reason;
  }
}

/** Athena's column types for the search statement's columns. */
export const ATHENA_MESSAGE_COLUMNS = [
  ["chat_type", "varchar"],
  ["msg_time", "varchar"],
  ["dt", "varchar"],
  ["hour", "varchar"],
  ["msg_timestamp", "bigint"],
  ["ts", "timestamp"],
  ["from_account", "varchar"],
  ["to_account", "varchar"],
  ["group_id", "varchar"],
  ["conversation", "varchar"],
  ["msg_seq", "bigint"],
  ["msg_random", "bigint"],
  ["msg_types", "varchar"],
  ["text", "varchar"],
  ["media_urls", "varchar"],
  ["raw", "varchar"],
  ["source_key", "varchar"],
  ["line", "bigint"],
].map(([Name, Type]) => ({ Name: Name!, Type: Type! }));

/** Row i of a C2C hour, as Athena's results give it (text; NULL as undefined). */
export const athenaMessageRow = (i: number): (string | undefined)[] => [
  "C2C",
  "2015120121",
  "2015-12-01",
  "21",
  String(1448974800 + i),
  `2015-12-01 13:00:${String(i % 60).padStart(2, "0")}.000`,
  `u${i}`,
  "u9",
  undefined,
  `u${i}|u9`,
  i === 0 ? "9007199254740993" : String(i),
  "7",
  '["TIMTextElem"]',
  i % 2 ? "你好 'x'" : undefined,
  "[]",
  `{"MsgSeq":${i}}`,
  "raw/chat_type=C2C/dt=2015-12-01/hour=21/a.gz",
  String(i + 2),
];

/** An answer for FakeAthena: `rows` messages of one C2C hour, whatever the statement. */
export const athenaMessages = (rows: number) => () => ({
  columns: ATHENA_MESSAGE_COLUMNS,
  rows: Array.from({ length: rows }, (_, i) => athenaMessageRow(i)),
});
