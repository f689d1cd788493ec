import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { makeHistoryFile } from "../../testing/history.ts";
import { HistoryFormatError, IntegrityError } from "../errors.ts";
import {
  type Convert,
  type ConvertOptions,
  convertHistoryToParquet,
  type TableSource,
} from "./message-parquet.ts";
import { TableWorkerPool } from "./table-worker-pool.ts";

const HOUR = "2024030112";

function file(messages: number, name: string) {
  const f = makeHistoryFile("C2C", HOUR, messages, `https://x.tim.qq.com/${name}`, 0);
  const source: TableSource = {
    chatType: "C2C",
    msgTime: HOUR,
    sourceKey: `raw/chat_type=C2C/dt=2024-03-01/hour=12/${name}`,
    gzipMd5: f.history.gzipMd5,
    fileMd5: f.history.fileMd5,
  };
  const expect = { gzipMd5: f.history.gzipMd5, messageCount: messages };
  return { gz: f.gz, source, expect };
}

/** The GZip bytes as a stream of small chunks, as a store hands them over. */
const chunked = (bytes: Buffer, size = 4096) =>
  Readable.from(
    Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) =>
      bytes.subarray(i * size, (i + 1) * size),
    ),
  );

async function collect(
  convert: Convert,
  gz: Buffer,
  source: TableSource,
  options: Omit<ConvertOptions, "check">,
) {
  const parts: Buffer[] = [];
  const result = await convert(chunked(gz), source, (b) => void parts.push(Buffer.from(b)), options);
  return { result, bytes: Buffer.concat(parts) };
}

const failureOf = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (err: Error) => ({ type: err.constructor, message: err.message }),
  );

describe("TableWorkerPool", () => {
  let pool: TableWorkerPool | undefined;
  afterEach(async () => {
    await pool?.close();
  });

  it("writes the very bytes the conversion writes on this thread, several files at once", async () => {
    pool = TableWorkerPool.create(2)!;
    // Several row groups and pages per file, three files on two threads (one waits for a thread).
    const options = { rowGroupRows: 700, pageBytes: 16 * 1024 };
    const files = [file(3000, "a.gz"), file(1, "b.gz"), file(2500, "c.gz")];

    const here = await Promise.all(
      files.map((f) => collect(convertHistoryToParquet, f.gz, f.source, { ...options, expect: f.expect })),
    );
    const there = await Promise.all(
      files.map((f) => collect(pool!.convert, f.gz, f.source, { ...options, expect: f.expect })),
    );

    expect(there.map((t) => t.result)).toEqual(here.map((h) => h.result));
    for (let i = 0; i < files.length; i++) expect(there[i]!.bytes.equals(here[i]!.bytes)).toBe(true);
    expect(here[0]!.bytes.length).toBeGreaterThan(0);
  });

  it("fails as the conversion on this thread fails: a wrong MD5, a file that is not GZip", async () => {
    pool = TableWorkerPool.create(1)!;
    const f = file(50, "a.gz");
    const lie = { ...f.expect, gzipMd5: "0".repeat(32) };
    const broken = Buffer.concat([f.gz.subarray(0, 40), Buffer.alloc(60, 7)]);

    const cases = [
      { gz: f.gz, expect: lie },
      { gz: broken, expect: f.expect },
    ];
    const here = await Promise.all(
      cases.map((c) => failureOf(collect(convertHistoryToParquet, c.gz, f.source, { expect: c.expect }))),
    );
    const there = await Promise.all(
      cases.map((c) => failureOf(collect(pool!.convert, c.gz, f.source, { expect: c.expect }))),
    );

    expect(here.map((h) => h?.type)).toEqual([IntegrityError, HistoryFormatError]);
    expect(there).toEqual(here);
    // The thread serves the next file after a failure.
    const after = await collect(pool.convert, f.gz, f.source, { expect: f.expect });
    expect(after.result.messages).toBe(50);
  });

  it("gives up a conversion whose input fails, with the input's error", async () => {
    pool = TableWorkerPool.create(1)!;
    const f = file(50, "a.gz");
    const gz = Readable.from(
      (async function* () {
        yield f.gz.subarray(0, 100);
        throw new Error("connection reset");
      })(),
    );

    await expect(pool.convert(gz, f.source, () => {}, { expect: f.expect })).rejects.toThrow(
      "connection reset",
    );
    const after = await collect(pool.convert, f.gz, f.source, { expect: f.expect });
    expect(after.result.messages).toBe(50);
  });
});
