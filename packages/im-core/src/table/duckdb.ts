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
import { type Dirent, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  type DuckDBBlobVector,
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBPreparedStatement,
  DuckDBTypeId,
  StatementType,
} from "@duckdb/node-api";
import { ValidationError } from "../errors.ts";
import { filesThatMayMatch } from "./search-files.ts";
import type { MessageSearch, SqlStatement } from "./search-sql.ts";

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

const NULL_BYTES = Buffer.from("null");

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

export class MessageTable {
  readonly #instance: DuckDBInstance;
  readonly #connection: DuckDBConnection;

  private constructor(instance: DuckDBInstance, connection: DuckDBConnection) {
    this.#instance = instance;
    this.#connection = connection;
  }

  /**
   * Opens the table whose files live under `tablesDir` (DATA_DIR/tables/messages). With `search`,
   * the view holds only the files that search may match (search-files.ts): the same rows for it,
   * without DuckDB reading the others.
   */
  static async open(tablesDir: string, options: { search?: MessageSearch } = {}): Promise<MessageTable> {
    const dir = resolve(tablesDir);
    // DuckDB starts on its own thread while this one lists the files (and picks a search's).
    const starting = DuckDBInstance.create(":memory:", {
      autoinstall_known_extensions: "false",
      autoload_known_extensions: "false",
    });
    let files: string[];
    try {
      files = tableFiles(dir);
      if (options.search !== undefined) files = await filesThatMayMatch(dir, files, options.search);
    } catch (error) {
      (await starting).closeSync();
      throw error;
    }
    const instance = await starting;
    const connection = await instance.connect();
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
    const result = await this.#stream(statement);
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

  /**
   * Runs one read-only statement answering one BLOB column (`encode(to_json(m))`, say) and yields
   * each of DuckDB's chunks as its values' bytes: no JavaScript string is made of them, which is
   * what printing a large answer cost most (bench/README.md, "Message table"). A NULL is `null`.
   */
  async queryBytes(statement: SqlStatement): Promise<AsyncIterable<Uint8Array[]>> {
    const result = await this.#stream(statement);
    const types = result.columnTypes();
    if (types.length !== 1 || types[0]!.typeId !== DuckDBTypeId.BLOB) {
      throw new QueryRefusedError("queryBytes reads statements that answer one BLOB column");
    }
    async function* batches(): AsyncGenerator<Uint8Array[]> {
      try {
        for (;;) {
          const chunk = await result.fetchChunk();
          if (chunk === null || chunk.rowCount === 0) return;
          const vector = chunk.getColumnVector(0) as DuckDBBlobVector;
          const values: Uint8Array[] = [];
          for (let i = 0; i < chunk.rowCount; i++) {
            const bytes = vector.getItemBytes(i);
            // Up to 12 bytes are a view into the chunk's memory: copied, as the chunk goes next.
            values.push(bytes === null ? NULL_BYTES : bytes.length <= 12 ? Buffer.from(bytes) : bytes);
          }
          yield values;
        }
      } catch (err) {
        throw refused(err);
      }
    }
    return batches();
  }

  async #stream(statement: SqlStatement | string) {
    const { sql, params } = typeof statement === "string" ? { sql: statement, params: [] } : statement;
    const prepared = await this.#prepareRead(sql);
    if (params.length > 0) prepared.bind(params);
    try {
      return await prepared.stream();
    } catch (err) {
      throw refused(err);
    }
  }

  async #prepareRead(sql: string): Promise<DuckDBPreparedStatement> {
    // DuckDB's parser answers an empty text with "Error in native callback".
    if (sql.trim() === "") throw new QueryRefusedError("give a statement: the query is empty");
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
export function tableFiles(dir: string): string[] {
  const keyed: { file: string; key: Buffer }[] = [];
  // The three partition levels walked with synchronous calls: a sixth of the CPU of a recursive
  // readdir through promises (bench/README.md, "Message table").
  for (const chatType of partitions(dir, "chat_type")) {
    for (const dt of partitions(join(dir, chatType.entry), "dt")) {
      for (const hour of partitions(join(dir, chatType.entry, dt.entry), "hour")) {
        const hourDir = join(dir, chatType.entry, dt.entry, hour.entry);
        for (const name of entries(hourDir, "file")) {
          if (!name.endsWith(".parquet") || name.length === ".parquet".length) continue;
          const stem = name.slice(0, -".parquet".length);
          keyed.push({
            file: join(chatType.entry, dt.entry, hour.entry, name),
            key: Buffer.from(`${dt.value}\u0000${hour.value}\u0000${chatType.value}\u0000${stem}`),
          });
        }
      }
    }
  }
  return keyed.sort((a, b) => Buffer.compare(a.key, b.key)).map((k) => k.file);
}

/** The `name=value` directories in `dir`. */
function partitions(dir: string, name: string): { entry: string; value: string }[] {
  const prefix = `${name}=`;
  return entries(dir, "directory")
    .filter((e) => e.startsWith(prefix) && e.length > prefix.length)
    .map((entry) => ({ entry, value: entry.slice(prefix.length) }));
}

function entries(dir: string, kind: "file" | "directory"): string[] {
  let list: Dirent[];
  try {
    list = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return list.filter((e) => (kind === "file" ? e.isFile() : e.isDirectory())).map((e) => e.name);
}
