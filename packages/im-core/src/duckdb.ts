/** The message table on one machine through DuckDB (loads DuckDB's native library). */
export * from "./export/duckdb-source.ts";
export * from "./table/duckdb.ts";
export * from "./table/local-searches.ts";
