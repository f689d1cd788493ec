/**
 * The worker thread's program (started by TableWorkerPool): converts raw history files to table
 * files, one at a time, with convertHistoryToParquet — the very code that runs on a main thread —
 * so that several hours are parsed at once, each on a thread (and a core) of its own. The GZip bytes
 * come in and the Parquet bytes go out as messages (transferred, never copied twice), each way with
 * a bound on the bytes in flight; the store stays on the thread that started the worker.
 *
 * Bundled as a file of its own (table-worker.mjs, next to the bundle that starts it: see
 * scripts/bundle-cli.ts); from the sources, Node runs this file itself.
 */
import { parentPort } from "node:worker_threads";
import { HistoryFormatError } from "../errors.ts";
import { type ConvertOptions, convertHistoryToParquet, type TableSource } from "./message-parquet.ts";

/** Messages to the worker: "start", then GZip bytes, then "end" (or "abort" at any time). */
export type ToTableWorker =
  | {
      type: "start";
      source: TableSource;
      options: Omit<ConvertOptions, "check">;
    }
  /** GZip bytes, transferred; acknowledged by "took" once the conversion has taken them. */
  | { type: "gzip"; bytes: Uint8Array }
  | { type: "end" }
  | { type: "abort" }
  /** The Parquet bytes of one "parquet" are written: more may come. */
  | { type: "written"; bytes: number };

/** A failure, as plain data: the error types the conversion throws on purpose survive the trip. */
export interface WorkerFailure {
  name: string;
  message: string;
  line?: number;
  details?: Record<string, unknown>;
}

/** Messages from the worker: "took" and "parquet" while converting, then "done" or "failed", once. */
export type FromTableWorker =
  | { type: "took"; bytes: number }
  | { type: "parquet"; bytes: Uint8Array }
  | { type: "done"; result: Awaited<ReturnType<typeof convertHistoryToParquet>> }
  | { type: "failed"; failure: WorkerFailure };

/** Parquet bytes gathered before they are sent (the writer hands over page headers and pages apart). */
const SEND_BYTES = 1024 * 1024;
/** Parquet bytes sent and not yet written before the conversion waits. */
const UNWRITTEN_BYTES = 8 * 1024 * 1024;

export function failureOf(err: unknown): WorkerFailure {
  if (err instanceof HistoryFormatError) return { name: err.name, message: err.message, line: err.line };
  if (err instanceof Error) {
    const details = (err as { details?: Record<string, unknown> }).details;
    return { name: err.name, message: err.message, ...(details === undefined ? {} : { details }) };
  }
  return { name: "Error", message: String(err) };
}

/** The conversion's input: GZip chunks as the messages bring them. */
class Inbox implements AsyncIterable<Uint8Array> {
  readonly #chunks: Uint8Array[] = [];
  #ended = false;
  #failed: Error | undefined;
  #wake: (() => void) | undefined;
  readonly #took: (bytes: number) => void;

  constructor(took: (bytes: number) => void) {
    this.#took = took;
  }

  push(bytes: Uint8Array): void {
    this.#chunks.push(bytes);
    this.#wake?.();
  }

  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  fail(err: Error): void {
    this.#failed = err;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      if (this.#failed !== undefined) throw this.#failed;
      const chunk = this.#chunks.shift();
      if (chunk !== undefined) {
        this.#took(chunk.length);
        yield chunk;
      } else if (this.#ended) {
        return;
      } else {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        this.#wake = undefined;
      }
    }
  }
}

function serve(port: NonNullable<typeof parentPort>): void {
  const send = (message: FromTableWorker, transfer?: ArrayBuffer[]) => port.postMessage(message, transfer);
  let inbox: Inbox | undefined;
  let unwritten = 0;
  let room: (() => void) | undefined;

  const convert = async (start: Extract<ToTableWorker, { type: "start" }>, input: Inbox) => {
    let gathered: Buffer[] = [];
    let gatheredBytes = 0;
    const post = () => {
      if (gatheredBytes === 0) return;
      const bytes = new Uint8Array(gatheredBytes);
      let at = 0;
      for (const b of gathered) {
        bytes.set(b, at);
        at += b.length;
      }
      gathered = [];
      gatheredBytes = 0;
      unwritten += bytes.length;
      send({ type: "parquet", bytes }, [bytes.buffer]);
    };
    const sink = (bytes: Buffer): Promise<void> | undefined => {
      // The writer may reuse its buffers once the call returns: keep a copy.
      gathered.push(Buffer.from(bytes));
      gatheredBytes += bytes.length;
      if (gatheredBytes >= SEND_BYTES) post();
      if (unwritten <= UNWRITTEN_BYTES) return undefined;
      return new Promise<void>((resolve) => {
        room = resolve;
      });
    };
    const result = await convertHistoryToParquet(input, start.source, sink, start.options);
    post();
    return result;
  };

  port.on("message", (message: ToTableWorker) => {
    switch (message.type) {
      case "start": {
        unwritten = 0;
        const input = new Inbox((bytes) => send({ type: "took", bytes }));
        inbox = input;
        convert(message, input).then(
          (result) => send({ type: "done", result }),
          (err: unknown) => send({ type: "failed", failure: failureOf(err) }),
        );
        break;
      }
      case "gzip":
        inbox?.push(message.bytes);
        break;
      case "end":
        inbox?.end();
        break;
      case "abort":
        inbox?.fail(new Error("aborted"));
        room?.();
        break;
      case "written":
        unwritten -= message.bytes;
        if (unwritten <= UNWRITTEN_BYTES && room !== undefined) {
          const resolve = room;
          room = undefined;
          resolve();
        }
        break;
    }
  });
}

// Does nothing where there is no parent (imported on a main thread, e.g. for its types).
if (parentPort !== null) serve(parentPort);
