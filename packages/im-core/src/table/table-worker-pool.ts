/**
 * Table files converted on worker threads (table-worker.ts), one file per thread at a time: a
 * `Convert` for indexHour that behaves as convertHistoryToParquet does (same bytes, same errors),
 * while the store, the GZip stream and the sink stay on this thread. Each direction has a bound on
 * the bytes in flight, so a slow sink or a slow thread holds memory to a few MiB per file.
 */
import { existsSync } from "node:fs";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { HistoryFormatError, ImvaultError, IntegrityError } from "../errors.ts";
import type { ConvertOptions, TableFileResult, TableSource } from "./message-parquet.ts";
import type { FromTableWorker, ToTableWorker, WorkerFailure } from "./table-worker.ts";

/**
 * The worker's module: from the TypeScript sources, table-worker.ts beside this file; from a bundle,
 * table-worker.mjs beside the bundle's file that holds this code (scripts/bundle-cli.ts builds it).
 */
const WORKER_FILE = new URL(
  import.meta.url.endsWith(".ts") ? "./table-worker.ts" : "./table-worker.mjs",
  import.meta.url,
);

/** GZip bytes sent to a thread and not yet taken by its conversion before reading pauses. */
const IN_FLIGHT_BYTES = 8 * 1024 * 1024;

export class TableWorkerPool {
  readonly #idle: Worker[] = [];
  readonly #waiting: ((worker: Worker) => void)[] = [];
  #size: number;
  #closed = false;

  private constructor(size: number) {
    this.#size = size;
  }

  /** A pool of `size` threads (started as needed), or undefined where the worker's module is absent. */
  static create(size: number): TableWorkerPool | undefined {
    if (!existsSync(fileURLToPath(WORKER_FILE))) return undefined;
    return new TableWorkerPool(Math.max(1, size));
  }

  /** A `Convert` (message-parquet.ts) that runs each conversion on one of the pool's threads. */
  readonly convert = async (
    gz: Readable,
    source: TableSource,
    sink: (bytes: Buffer) => void | Promise<void>,
    options: Omit<ConvertOptions, "check">,
  ): Promise<TableFileResult> => {
    const worker = await this.#take();
    let healthy = false;
    try {
      const result = await runOn(worker, gz, source, sink, options);
      healthy = true;
      return result;
    } catch (err) {
      healthy = !(err instanceof WorkerDiedError);
      throw err;
    } finally {
      this.#give(worker, healthy);
    }
  };

  /** Ends the threads; conversions under way fail. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#idle.splice(0).map((w) => w.terminate()));
  }

  async #take(): Promise<Worker> {
    if (this.#closed) throw new ImvaultError("the table worker pool is closed");
    const idle = this.#idle.pop();
    if (idle !== undefined) {
      idle.ref();
      return idle;
    }
    if (this.#size > 0) {
      this.#size--;
      return new Worker(WORKER_FILE);
    }
    return new Promise<Worker>((resolve) => this.#waiting.push(resolve));
  }

  #give(worker: Worker, healthy: boolean): void {
    if (!healthy || this.#closed) {
      void worker.terminate();
      const next = this.#waiting.shift();
      if (next !== undefined && !this.#closed) next(new Worker(WORKER_FILE));
      else this.#size++;
      return;
    }
    const next = this.#waiting.shift();
    if (next !== undefined) {
      next(worker);
      return;
    }
    // An idle thread never keeps the process alive.
    worker.unref();
    this.#idle.push(worker);
  }
}

class WorkerDiedError extends ImvaultError {}

function runOn(
  worker: Worker,
  gz: Readable,
  source: TableSource,
  sink: (bytes: Buffer) => void | Promise<void>,
  options: Omit<ConvertOptions, "check">,
): Promise<TableFileResult> {
  const send = (message: ToTableWorker, transfer?: ArrayBuffer[]) => worker.postMessage(message, transfer);
  return new Promise<TableFileResult>((resolve, reject) => {
    let inFlight = 0;
    let room: (() => void) | undefined;
    let finished = false;
    let readError: unknown;
    // Sink calls in order, one after the other.
    let writing: Promise<void> = Promise.resolve();
    const finish = (outcome: () => void) => {
      if (finished) return;
      finished = true;
      worker.off("message", onMessage);
      worker.off("error", onError);
      worker.off("exit", onExit);
      room?.();
      outcome();
    };
    const onMessage = (message: FromTableWorker) => {
      switch (message.type) {
        case "took":
          inFlight -= message.bytes;
          if (inFlight <= IN_FLIGHT_BYTES && room !== undefined) {
            const resume = room;
            room = undefined;
            resume();
          }
          break;
        case "parquet": {
          const bytes = Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength);
          writing = writing.then(async () => {
            await sink(bytes);
            if (!finished) send({ type: "written", bytes: bytes.length });
          });
          writing.catch(() => {
            // The sink failed: the conversion is given up (its bytes are discarded by the caller).
            send({ type: "abort" });
          });
          break;
        }
        case "done":
          writing.then(
            () => finish(() => resolve(message.result)),
            (err: unknown) => finish(() => reject(err)),
          );
          break;
        case "failed":
          writing.then(
            () => finish(() => reject(readError ?? errorOf(message.failure))),
            (err: unknown) => finish(() => reject(readError ?? err)),
          );
          break;
      }
    };
    const onError = (err: Error) => finish(() => reject(new WorkerDiedError(err.message, { cause: err })));
    const onExit = (code: number) =>
      finish(() => reject(new WorkerDiedError(`the table worker thread exited (${code})`)));
    worker.on("message", onMessage);
    worker.on("error", onError);
    worker.on("exit", onExit);
    send({ type: "start", source, options });

    (async () => {
      for await (const chunk of gz as AsyncIterable<Uint8Array>) {
        if (finished) return;
        // A copy of its own to transfer (a stream's chunk may share its memory with others).
        const bytes = new Uint8Array(chunk);
        inFlight += bytes.length;
        send({ type: "gzip", bytes }, [bytes.buffer]);
        if (inFlight > IN_FLIGHT_BYTES) {
          await new Promise<void>((resume) => {
            room = resume;
          });
        }
      }
      send({ type: "end" });
    })().catch((err: unknown) => {
      readError = err;
      send({ type: "abort" });
    });
  });
}

/** The worker's failure as the error the same failure raises on this thread. */
function errorOf(failure: WorkerFailure): Error {
  let err: Error;
  if (failure.name === "HistoryFormatError") err = new HistoryFormatError(failure.line ?? 0, "");
  else if (failure.name === "IntegrityError") err = new IntegrityError("", failure.details);
  else err = new ImvaultError("", failure.details === undefined ? {} : { details: failure.details });
  err.message = failure.message;
  return err;
}
