import { plainTable, renderTable } from "./table.ts";

/**
 * Rows of `imvault query` and `imvault search` on stdout: `json` one JSON array of row objects,
 * `ndjson` one object a line, `csv` a header row then RFC 4180 rows (lists as JSON text), `table`
 * an aligned table (control characters shown as escapes so a message stays on one line). Rows come
 * in batches; every format but `table` prints each batch as it arrives.
 */
export const ROW_FORMATS = ["table", "json", "ndjson", "csv"] as const;
export type RowFormat = (typeof ROW_FORMATS)[number];

export async function printRows(
  columns: readonly string[],
  batches: AsyncIterable<Record<string, unknown>[]>,
  format: RowFormat,
  out: (text: string) => void,
): Promise<number> {
  let count = 0;
  switch (format) {
    // One write a batch (DuckDB's chunk of up to 2,048 rows), not one a row: the same text, a
    // hundredth of the writes. `out` ends each call with a newline, as it would each row.
    case "json":
      for await (const rows of batches) {
        if (rows.length === 0) continue;
        out(rows.map((row, i) => `${count + i === 0 ? "[" : ","}${JSON.stringify(row)}`).join("\n"));
        count += rows.length;
      }
      out(count === 0 ? "[]" : "]");
      return count;
    case "ndjson":
      for await (const rows of batches) {
        if (rows.length === 0) continue;
        out(rows.map((row) => JSON.stringify(row)).join("\n"));
        count += rows.length;
      }
      return count;
    case "csv":
      out(columns.map(csvField).join(","));
      for await (const rows of batches) {
        if (rows.length === 0) continue;
        out(rows.map((row) => columns.map((c) => csvField(cellText(row[c]))).join(",")).join("\n"));
        count += rows.length;
      }
      return count;
    case "table": {
      const table = plainTable({ head: [...columns] });
      for await (const rows of batches) {
        for (const row of rows) {
          table.push(columns.map((c) => visible(cellText(row[c]))));
          count++;
        }
      }
      out(renderTable(table));
      return count;
    }
  }
}

const NEWLINE = Buffer.from("\n");
const OPEN = Buffer.from("[");
const COMMA = Buffer.from(",");

/**
 * Rows that are JSON text already, in UTF-8 bytes (DuckDB's to_json): printed as they are, as json
 * or ndjson, one write a batch; the same text `printRows` prints for the same rows.
 */
export async function printJsonTexts(
  batches: AsyncIterable<Uint8Array[]>,
  format: "json" | "ndjson",
  write: (bytes: Uint8Array) => void,
): Promise<number> {
  let count = 0;
  for await (const texts of batches) {
    if (texts.length === 0) continue;
    const parts: Uint8Array[] = [];
    for (const text of texts) {
      if (format === "json") parts.push(count === 0 ? OPEN : COMMA);
      parts.push(text, NEWLINE);
      count++;
    }
    write(Buffer.concat(parts));
  }
  if (format === "json") write(Buffer.from(count === 0 ? "[]\n" : "]\n"));
  return count;
}

/** A value as text: null empty, strings as they are, lists and objects as JSON. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v);
  return JSON.stringify(v);
}

export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Newlines, tabs and other control characters as escapes, so one row stays one line. */
function visible(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is replaced
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) =>
    c === "\n" ? "\\n" : c === "\t" ? "\\t" : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
