/**
 * The message table on one machine: DuckDB over the Parquet files under DATA_DIR, as a read-only
 * `messages` view (Hive partitions chat_type/dt/hour, so a filter on them skips whole files). The view
 * lists the files in the table's order (hour, chat type, raw file), and DuckDB keeps a scan's order
 * (preserve_insertion_order), so a one-scan query yields its rows in the table's order, line by line,
 * without sorting them (MESSAGES_IN_TABLE_ORDER).
 * Once the view exists, DuckDB may touch no file outside the table's directory and its settings are
 * locked; every statement must be a single read, which DuckDB's own parser and planner say (the
 * parsed statement and the prepared one both of type SELECT). Entry point `@imvault/im-core/duckdb`,
 * so that nothing else loads DuckDB's native library.
 */
import { readdir } from "node:fs/promises";
import { join, resolve, sep } from "node:path";
import {
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBPreparedStatement,
  DuckDBTypeId,
  StatementType,
} from "@duckdb/node-api";
import { ValidationError } from "../errors.ts";
import type { SqlStatement } from "./search-sql.ts";

/** A query's answer: its column names, then its rows in batches (values JSON-ready). */
export interface QueryResult {
  columns: string[];
  batches: AsyncIterable<Record<string, unknown>[]>;
}

/** A statement that is not a single read, or that DuckDB refused: the caller's mistake. */
export class QueryRefusedError extends ValidationError {}

const EMPTY_VIEW = `SELECT
  NULL::VARCHAR AS chat_type, NULL::VARCHAR AS msg_time, NULL::VARCHAR AS dt, NULL::VARCHAR AS hour,
  NULL::BIGINT AS msg_timestamp, NULL::TIMESTAMP AS ts, NULL::VARCHAR AS from_account,
  NULL::VARCHAR AS to_account, NULL::VARCHAR AS group_id, NULL::VARCHAR AS conversation,
  NULL::BIGINT AS msg_seq, NULL::BIGINT AS msg_random, NULL::VARCHAR[] AS msg_types,
  NULL::VARCHAR AS text, NULL::VARCHAR[] AS media_urls, NULL::VARCHAR AS raw,
  NULL::VARCHAR AS source_key, NULL::BIGINT AS line
WHERE false`;

const BIG_INTEGERS = new Set<number>([
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.UBIGINT,
  DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UHUGEINT,
]);

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

export class MessageTable {
  readonly #instance: DuckDBInstance;
  readonly #connection: DuckDBConnection;

  private constructor(instance: DuckDBInstance, connection: DuckDBConnection) {
    this.#instance = instance;
    this.#connection = connection;
  }

  /** Opens the table whose files live under `tablesDir` (DATA_DIR/tables/messages). */
  static async open(tablesDir: string): Promise<MessageTable> {
    const dir = resolve(tablesDir);
    const instance = await DuckDBInstance.create(":memory:", {
      autoinstall_known_extensions: "false",
      autoload_known_extensions: "false",
    });
    const connection = await instance.connect();
    const files = await tableFiles(dir);
    const source =
      files.length > 0
        ? `SELECT * FROM read_parquet([${files.map((f) => sqlString(join(dir, f))).join(", ")}], hive_partitioning = true, hive_types_autocast = false)`
        : EMPTY_VIEW;
    await connection.run(`CREATE VIEW messages AS ${source}`);
    await connection.run(`SET allowed_directories = [${sqlString(`${dir}/`)}]`);
    await connection.run("SET enable_external_access = false");
    await connection.run("SET lock_configuration = true");
    return new MessageTable(instance, connection);
  }

  /** Runs one read-only statement with `?` parameters; refuses anything else before it runs. */
  async query(statement: SqlStatement | string): Promise<QueryResult> {
    const { sql, params } = typeof statement === "string" ? { sql: statement, params: [] } : statement;
    const prepared = await this.#prepareRead(sql);
    if (params.length > 0) prepared.bind(params);
    let result: Awaited<ReturnType<DuckDBPreparedStatement["stream"]>>;
    try {
      result = await prepared.stream();
    } catch (err) {
      throw refused(err);
    }
    const columns = result.columnNames();
    const big = result.columnTypes().map((t) => BIG_INTEGERS.has(t.typeId));
    async function* batches(): AsyncGenerator<Record<string, unknown>[]> {
      try {
        for await (const rows of result.yieldRowsJson()) {
          yield rows.map((row) => {
            const out: Record<string, unknown> = {};
            for (let c = 0; c < columns.length; c++) {
              const v = row[c];
              out[columns[c]!] = big[c] && typeof v === "string" ? bigToJson(v) : v;
            }
            return out;
          });
        }
      } catch (err) {
        throw refused(err);
      }
    }
    return { columns, batches: batches() };
  }

  async #prepareRead(sql: string): Promise<DuckDBPreparedStatement> {
    let count: number;
    let extracted: Awaited<ReturnType<DuckDBConnection["extractStatements"]>>;
    try {
      extracted = await this.#connection.extractStatements(sql);
      count = extracted.count;
    } catch (err) {
      throw refused(err);
    }
    if (count !== 1) {
      throw new QueryRefusedError(`give exactly one statement (got ${count})`);
    }
    // The parser's verdict: json_serialize_sql serializes SELECT statements only (not PRAGMA, CALL, SET, …).
    const parsed = await this.#connection.runAndReadAll("SELECT json_serialize_sql(?::VARCHAR)", [sql]);
    const ast = JSON.parse(String(parsed.getRowsJson()[0]?.[0] ?? "{}")) as {
      error?: boolean;
      error_type?: string;
      error_message?: string;
    };
    if (ast.error === true) {
      throw new QueryRefusedError(
        ast.error_type === "not implemented"
          ? "only a read (SELECT, WITH … SELECT, VALUES, DESCRIBE, SHOW) may run here; nothing was changed"
          : `query: ${ast.error_message ?? "not valid SQL"}`,
      );
    }
    let prepared: DuckDBPreparedStatement;
    try {
      prepared = await extracted.prepare(0);
    } catch (err) {
      throw refused(err);
    }
    if (prepared.statementType !== StatementType.SELECT) {
      throw new QueryRefusedError(
        `only a read may run here (this is ${StatementType[prepared.statementType]}); nothing was changed`,
      );
    }
    return prepared;
  }

  close(): void {
    this.#connection.closeSync();
    this.#instance.closeSync();
  }
}

/** BIGINT as a JSON number while it is exact, else as its digits in a string. */
function bigToJson(digits: string): number | string {
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : digits;
}

function refused(err: unknown): QueryRefusedError {
  const message = err instanceof Error ? err.message : String(err);
  return new QueryRefusedError(`query: ${message.split("\n")[0]}`);
}

/**
 * The table's files, relative to `dir`, in the table's order: msg_time (dt, then hour), chat type,
 * then the raw file's key (the name without `.parquet`, byte by byte as SQL compares strings).
 */
export async function tableFiles(dir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(dir, { recursive: true });
  } catch {
    return [];
  }
  const keyed: { file: string; key: Buffer }[] = [];
  for (const file of entries) {
    const m = PARTITIONED_FILE.exec(file.split(sep).join("/"));
    if (m === null) continue;
    const [, chatType, dt, hour, name] = m;
    keyed.push({ file, key: Buffer.from(`${dt}\u0000${hour}\u0000${chatType}\u0000${name}`) });
  }
  return keyed.sort((a, b) => Buffer.compare(a.key, b.key)).map((k) => k.file);
}

const PARTITIONED_FILE = /^chat_type=([^/]+)\/dt=([^/]+)\/hour=([^/]+)\/([^/]+)\.parquet$/;
