/**
 * How the message table's Parquet writer was chosen: the candidates turn the same generated hour
 * into Parquet (ZSTD, every column of the table), each in its own process, timed spawn to exit, with
 * its peak RSS, the bytes written against the raw GZip bytes, and the time its module takes to load
 * (what a Lambda's cold start would pay). Rows come from the same parser and messageRow for all, so
 * only the writing differs. The candidates other than imvault's writer and DuckDB are not
 * dependencies of the project; install them for this bench alone:
 *
 *   npm install --no-save hyparquet-writer parquet-wasm apache-arrow
 *   node bench/parquet-writers.ts [--messages 500000]
 */
import { spawnSync } from "node:child_process";
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createGunzip } from "node:zlib";
import {
  convertHistoryToParquet,
  fileRowFields,
  HistoryParser,
  MESSAGE_COLUMNS,
  type MessageRow,
  messageRow,
} from "@imvault/im-core";
import { writeGzipHistory } from "./lib/history-gen.ts";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "500000" },
    candidate: { type: "string" },
    input: { type: "string" },
    out: { type: "string" },
  },
});
const SOURCE = {
  chatType: "C2C" as const,
  msgTime: "2025010112",
  sourceKey: "raw/chat_type=C2C/dt=2025-01-01/hour=12/h.gz",
};
const CANDIDATES = ["imvault", "duckdb-appender", "hyparquet-writer", "parquet-wasm"] as const;
const require = createRequire(import.meta.url);

async function* batches(path: string, size: number): AsyncGenerator<MessageRow[]> {
  const file = fileRowFields(SOURCE);
  const gunzip = createGunzip({ chunkSize: 64 * 1024 });
  createReadStream(path).pipe(gunzip);
  const parser = new HistoryParser();
  let batch: MessageRow[] = [];
  for await (const chunk of gunzip) {
    for (const e of parser.push(chunk as Buffer)) {
      if (e.kind !== "message") continue;
      batch.push(messageRow(file, e.message, e.raw, e.line));
      if (batch.length === size) {
        yield batch;
        batch = [];
      }
    }
  }
  parser.end();
  if (batch.length > 0) yield batch;
}

const big = (v: number | null) => (v === null ? null : BigInt(v));

/** Loads the candidate's module (timed) and returns a function writing `input` to `out`. */
async function load(name: string): Promise<(input: string, out: string) => Promise<number>> {
  const dyn = (m: string) => import(m);
  switch (name) {
    case "imvault":
      // Part of im-core, which the caller has loaded already (as the archive Lambda has).
      return async (input, out) => {
        const ws = createWriteStream(out);
        const r = await convertHistoryToParquet(
          createReadStream(input),
          { ...SOURCE, gzipMd5: "", fileMd5: "" },
          (b) => (ws.write(b) ? undefined : new Promise<void>((res) => ws.once("drain", () => res()))),
        );
        await new Promise<void>((res) => ws.end(res));
        return r.messages;
      };
    case "duckdb-appender": {
      const duck = await dyn("@duckdb/node-api");
      return async (input, out) => {
        const db = join(out, "..", "tmp.duckdb");
        const inst = await duck.DuckDBInstance.create(db, { threads: "2", memory_limit: "384MB" });
        const con = await inst.connect();
        await con.run(
          "CREATE TABLE m (msg_timestamp BIGINT, from_account VARCHAR, to_account VARCHAR, group_id VARCHAR, conversation VARCHAR, msg_seq BIGINT, msg_random BIGINT, msg_types VARCHAR, text VARCHAR, media_urls VARCHAR, raw VARCHAR, line BIGINT)",
        );
        const app = await con.createAppender("m");
        const { BIGINT, VARCHAR } = duck;
        const types = [
          BIGINT,
          VARCHAR,
          VARCHAR,
          VARCHAR,
          VARCHAR,
          BIGINT,
          BIGINT,
          VARCHAR,
          VARCHAR,
          VARCHAR,
          VARCHAR,
          BIGINT,
        ];
        let n = 0;
        for await (const b of batches(input, 2048)) {
          n += b.length;
          const chunk = duck.DuckDBDataChunk.create(types, b.length);
          chunk.setColumns([
            b.map((r) => big(r.msg_timestamp)),
            b.map((r) => r.from_account),
            b.map((r) => r.to_account),
            b.map((r) => r.group_id),
            b.map((r) => r.conversation),
            b.map((r) => big(r.msg_seq)),
            b.map((r) => big(r.msg_random)),
            b.map((r) => r.msg_types.join("\u0001")),
            b.map((r) => r.text),
            b.map((r) => r.media_urls.join("\u0001")),
            b.map((r) => r.raw),
            b.map((r) => big(r.line)),
          ]);
          app.appendDataChunk(chunk);
        }
        app.closeSync();
        const list = (c: string) =>
          `CASE WHEN ${c} = '' THEN []::VARCHAR[] ELSE string_split(${c}, chr(1)) END AS ${c}`;
        await con.run(
          `COPY (SELECT 'C2C' AS chat_type, '${SOURCE.msgTime}' AS msg_time, '2025-01-01' AS dt, '12' AS hour, msg_timestamp, make_timestamp(msg_timestamp * 1000000) AS ts, from_account, to_account, group_id, conversation, msg_seq, msg_random, ${list("msg_types")}, text, ${list("media_urls")}, raw, '${SOURCE.sourceKey}' AS source_key, line FROM m) TO '${out}' (FORMAT parquet, COMPRESSION zstd)`,
        );
        return n;
      };
    }
    case "hyparquet-writer": {
      const { ParquetWriter, ByteWriter } = await dyn("hyparquet-writer");
      const { zstdCompressSync } = await import("node:zlib");
      return async (input, out) => {
        const str = (name: string) => ({
          name,
          type: "BYTE_ARRAY",
          converted_type: "UTF8",
          repetition_type: "OPTIONAL",
        });
        const i64 = (name: string) => ({ name, type: "INT64", repetition_type: "OPTIONAL" });
        const list = (name: string): Record<string, unknown>[] => [
          { name, repetition_type: "OPTIONAL", converted_type: "LIST", num_children: 1 },
          { name: "list", repetition_type: "REPEATED", num_children: 1 },
          { name: "element", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" },
        ];
        const cols = MESSAGE_COLUMNS;
        const ints = new Set(["msg_timestamp", "ts", "msg_seq", "msg_random", "line"]);
        const schema: Record<string, unknown>[] = [
          { name: "root", num_children: cols.length },
          ...cols.flatMap((c) =>
            c === "msg_types" || c === "media_urls" ? list(c) : ints.has(c) ? [i64(c)] : [str(c)],
          ),
        ];
        const ws = createWriteStream(out);
        const writer = new ByteWriter();
        writer.flush = () => {
          const chunk = new Uint8Array(writer.buffer.slice(0, writer.index));
          writer.index = 0;
          if (!ws.write(chunk)) return new Promise<void>((r) => ws.once("drain", () => r()));
        };
        const pw = new ParquetWriter({
          writer,
          schema,
          codec: "ZSTD",
          compressors: { ZSTD: (b: Uint8Array) => zstdCompressSync(b) },
        });
        let n = 0;
        for await (const b of batches(input, 100_000)) {
          n += b.length;
          const columnData = cols.map((c) => ({
            name: c,
            data: b.map((r) => (ints.has(c) ? big(r[c] as number | null) : r[c])),
          }));
          await pw.write({ columnData, rowGroupSize: b.length });
        }
        pw.finish();
        await new Promise<void>((r) => ws.end(r));
        return n;
      };
    }
    case "parquet-wasm": {
      const pw = require("parquet-wasm/node");
      const arrow = await dyn("apache-arrow");
      return async (input, out) => {
        const cols = [
          "msg_timestamp",
          "from_account",
          "to_account",
          "group_id",
          "conversation",
          "msg_seq",
          "msg_random",
          "msg_types",
          "text",
          "media_urls",
          "raw",
          "line",
        ] as const;
        const tables = [];
        let n = 0;
        for await (const b of batches(input, 65_536)) {
          n += b.length;
          const vectors: Record<string, unknown> = {};
          for (const c of cols) {
            const list = c === "msg_types" || c === "media_urls";
            const num = typeof b[0]![c] === "number";
            const type = list
              ? new arrow.List(new arrow.Field("element", new arrow.Utf8(), true))
              : num
                ? new arrow.Int64()
                : new arrow.Utf8();
            vectors[c] = arrow.vectorFromArray(
              b.map((r) => (num ? big(r[c] as number | null) : r[c])),
              type,
            );
          }
          tables.push(new arrow.Table(vectors));
        }
        const table = tables.reduce((a, t) => a.concat(t));
        const props = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.ZSTD).build();
        const bytes = pw.writeParquet(pw.Table.fromIPCStream(arrow.tableToIPC(table, "stream")), props);
        const ws = createWriteStream(out);
        await new Promise<void>((r) => ws.end(bytes, () => r()));
        return n;
      };
    }
  }
  throw new Error(`unknown candidate ${name}`);
}

if (values.candidate !== undefined) {
  const t0 = performance.now();
  const write = await load(values.candidate);
  const loadMs = performance.now() - t0;
  const messages = await write(values.input!, values.out!);
  console.log(JSON.stringify({ messages, loadMs }));
} else {
  const dir = mkdtempSync(join(tmpdir(), "imvault-bench-writers-"));
  try {
    const input = join(dir, "h.gz");
    const gen = await writeGzipHistory(input, {
      messages: Number(values.messages),
      chatType: "C2C",
      msgTime: SOURCE.msgTime,
    });
    console.log(
      `one C2C hour: ${gen.messages} messages, ${gen.gzipBytes} bytes GZip, ${gen.plainBytes} plain`,
    );
    for (const candidate of CANDIDATES) {
      const out = join(dir, `${candidate}.parquet`);
      const t = performance.now();
      const r = spawnSync(
        "/usr/bin/time",
        [
          "-f",
          "%M %U %S",
          process.execPath,
          fileURLToPath(import.meta.url),
          "--candidate",
          candidate,
          "--input",
          input,
          "--out",
          out,
        ],
        { encoding: "utf8" },
      );
      const seconds = (performance.now() - t) / 1000;
      if (r.status !== 0) {
        console.log(
          `${candidate.padEnd(17)} did not run: ${r.stderr.trim().split("\n").slice(-2, -1)[0] ?? r.status}`,
        );
        continue;
      }
      const [rss, user, sys] = r.stderr.trim().split("\n").at(-1)!.split(" ").map(Number) as [
        number,
        number,
        number,
      ];
      const { messages, loadMs } = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as {
        messages: number;
        loadMs: number;
      };
      const bytes = statSync(out).size;
      console.log(
        `${candidate.padEnd(17)} ${String(Math.round(messages / seconds)).padStart(7)} msg/s  cpu ${(user + sys).toFixed(1).padStart(5)} s  peak RSS ${String(Math.round(rss / 1024)).padStart(5)} MiB  ${String(bytes).padStart(10)} bytes = ${(bytes / gen.gzipBytes).toFixed(2)}x GZip  module load ${loadMs.toFixed(0)} ms`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
