// CPU of one SQL over the bench's table (DuckDB only: one number back).
import { DuckDBInstance } from "@duckdb/node-api";
import { readdirSync } from "node:fs";
const dir = "/tmp/imvault-bench-query-doziJ1/tables/messages";
const files = readdirSync(dir, { recursive: true }).filter((f) => f.endsWith(".parquet")).sort();
const inst = await DuckDBInstance.create(":memory:", { threads: process.env.THREADS ?? "2" });
const con = await inst.connect();
await con.run(`CREATE VIEW messages AS SELECT * FROM read_parquet([${files.map((f) => `'${dir}/${f}'`).join(",")}], hive_partitioning = true, hive_types_autocast = false)`);
for (const sql of process.argv.slice(2)) {
  const c0 = process.cpuUsage(); const t0 = performance.now();
  const r = await con.runAndReadAll(sql);
  const c = process.cpuUsage(c0);
  console.log(`${((c.user + c.system) / 1e6).toFixed(2)} s cpu ${((performance.now() - t0) / 1000).toFixed(2)} s wall  ${JSON.stringify(r.getRowsJson()[0])}  ${sql.slice(0, 90)}`);
}
