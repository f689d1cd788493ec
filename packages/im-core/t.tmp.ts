import { DuckDBInstance } from "@duckdb/node-api";
const i = await DuckDBInstance.create(":memory:");
const c = await i.connect();
await c.run("CREATE VIEW messages AS SELECT * FROM read_parquet('/tmp/imvault-bench-query-Vwc0NQ/tables/messages/**/*.parquet', hive_partitioning = true, hive_types_autocast = false)");
const u = (await c.runAndReadAll("select from_account from messages limit 1")).getRowsJson()[0]![0] as string;
const cols = "chat_type, msg_time, dt, hour, msg_timestamp, ts, from_account, to_account, group_id, conversation, msg_seq, msg_random, msg_types, text, media_urls, raw, source_key, line";
const qs: [string, string, any[]][] = [
  ["or *", "select " + cols + " from messages where from_account = ? or to_account = ? order by msg_time, chat_type, source_key, line", [u, u]],
  ["or keys", "select source_key, line from messages where from_account = ? or to_account = ?", [u, u]],
  ["eq *", "select " + cols + " from messages where from_account = ?", [u]],
  ["eq keys", "select source_key, line from messages where from_account = ?", [u]],
  ["union *", "select " + cols + " from messages where from_account = ? union all select " + cols + " from messages where to_account = ? and from_account is distinct from ?", [u, u, u]],
  ["text count", "select count(*) from messages where strpos(text, ?) > 0", ["天气"]],
  ["text keys", "select source_key, line from messages where strpos(text, ?) > 0", ["天气"]],
  ["text *", "select " + cols + " from messages where strpos(text, ?) > 0 order by msg_time, chat_type, source_key, line", ["天气"]],
  ["text * noorder", "select " + cols + " from messages where strpos(text, ?) > 0", ["天气"]],
  ["count raw", "select sum(length(raw)) from messages", []],
];
for (const [name, sql, p] of qs) {
  const t = performance.now();
  const r = await c.runAndReadAll(sql, p);
  console.log(name.padEnd(16), r.currentRowCount, ((performance.now() - t) / 1000).toFixed(3), "s");
}
