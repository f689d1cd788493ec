import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker, type WorkerOptions } from "node:worker_threads";
import type { PlainFailure, PlainSide, PlainSideEvents, PlainSideOptions } from "./plain-side.ts";
import type { FromPlainWorker, ToPlainWorker } from "./plain-worker.ts";

/**
 * The worker's module: from the TypeScript sources, plain-worker.ts beside this file (Node strips its
 * types); from a bundle, plain-worker.mjs beside the bundle's file that holds this code, which
 * scripts/bundle.ts and scripts/bundle-cli.ts build as an entry point of its own.
 */
const WORKER_FILE = new URL(
  import.meta.url.endsWith(".ts") ? "./plain-worker.ts" : "./plain-worker.mjs",
  import.meta.url,
);

/** Whether the worker's module is there, asked once: where it is not, files are verified on this thread. */
let workerFileFound: boolean | undefined;

/** The worker's module, if it is there. */
export function plainWorkerFile(): URL | undefined {
  workerFileFound ??= existsSync(fileURLToPath(WORKER_FILE));
  return workerFileFound ? WORKER_FILE : undefined;
}

/** A booted thread that no file has taken yet (see warmUpGunzipThread). */
let spareThread: Worker | undefined;

/**
 * The worker inherits the process's Node flags, but Node refuses `--input-type` for a worker started
 * from a file: in a process started with `--input-type=module -e …` the worker gets the other flags
 * given explicitly. (Given explicitly, V8 flags are refused, so this is done only when needed; where
 * the worker cannot start, files are verified on the calling thread.)
 */
function workerOptions(): WorkerOptions {
  const flags = process.execArgv;
  if (!flags.some((flag) => flag === "--input-type" || flag.startsWith("--input-type="))) return {};
  const execArgv: string[] = [];
  for (let i = 0; i < flags.length; i++) {
    if (flags[i] === "--input-type") i++;
    else if (!flags[i]!.startsWith("--input-type=")) execArgv.push(flags[i]!);
  }
  return { execArgv };
}

/** Unref'd: a thread that has nothing outstanding never keeps the process alive. Throws if none can start. */
function startThread(file: URL): Worker {
  const worker = new Worker(file, workerOptions());
  worker.unref();
  return worker;
}

/**
 * Boots a worker thread ahead of need, for the next WorkerPlainSide to take. Booting one takes tens
 * of milliseconds, and without this it happens after a download's first bytes, with the inflate
 * waiting; called while get_history is on its way, it boots during the round trip instead. At most
 * one waits, holding no data; one that dies while it waits is forgotten and the next file starts its
 * own.
 */
export function warmUpGunzipThread(): void {
  const file = plainWorkerFile();
  if (spareThread !== undefined || file === undefined) return;
  let worker: Worker;
  try {
    worker = startThread(file);
  } catch {
    return; // the file's verification tries again, and verifies on its own thread if it fails too
  }
  const forget = () => {
    if (spareThread === worker) spareThread = undefined;
  };
  worker.once("error", forget);
  worker.once("exit", forget);
  spareThread = worker;
}

/** For tests: the warmed-up thread waiting for a file, if any. */
export function spareGunzipThread(): Worker | undefined {
  return spareThread;
}

/** The worker side's own settings. */
export interface WorkerPlainSideOptions extends PlainSideOptions {
  /** Size of the reusable buffers that carry GZip bytes to the worker. */
  stagingBytes: number;
}

/**
 * Starts a WorkerPlainSide, on the warmed-up thread if one waits.
 *
 * Returns undefined where no worker can be started (no worker module beside this code, or the
 * platform refuses threads): the caller verifies on its own thread instead.
 */
export function startWorkerPlainSide(
  options: WorkerPlainSideOptions,
  events: PlainSideEvents,
): WorkerPlainSide | undefined {
  const file = plainWorkerFile();
  if (file === undefined) return undefined;
  let worker: Worker;
  try {
    worker = spareThread ?? startThread(file);
  } catch {
    return undefined;
  }
  spareThread = undefined;
  return new WorkerPlainSide(worker, options, events);
}

/**
 * The plain side on a worker thread (plain-worker.ts), for big files: zlib still inflates on the
 * libuv threadpool, but its callbacks, the plain MD5 (the bulk of the hashing) and the framing check
 * run on the worker, away from this thread's I/O and GZip MD5, and in an isolate whose only garbage is
 * zlib's (its output buffers are recycled there; bench/README.md, "Verifier", has the figures).
 *
 * GZip bytes cross in reusable staging buffers that are transferred, not cloned: this side copies
 * each chunk once (the verifier passes its chunks on downstream, so it cannot give them away), and
 * the worker hands each buffer back once zlib has consumed it, which is also how the backlog is
 * counted. The worker is unref'd whenever nothing is outstanding, so a stream abandoned mid-way never
 * keeps the process alive; `close` terminates it.
 */
export class WorkerPlainSide implements PlainSide {
  private readonly worker: Worker;
  private readonly options: WorkerPlainSideOptions;
  private readonly events: PlainSideEvents;
  /** Staging buffers handed back, ready for reuse. */
  private readonly spare: ArrayBuffer[] = [];
  private stage: Uint8Array;
  private staged = 0;
  /** GZip bytes handed to the worker and not yet back, oldest first (the worker answers in order). */
  private readonly inFlight: number[] = [];
  private inFlightBytes = 0;
  /** `write` returned false and `room` is still to come. */
  private blocked = false;
  private ended = false;
  private closed = false;

  constructor(worker: Worker, options: WorkerPlainSideOptions, events: PlainSideEvents) {
    this.worker = worker;
    this.options = options;
    this.events = events;
    this.stage = new Uint8Array(options.stagingBytes);
    const { chunkSize, readAheadBytes, sliceBytes, limit } = options;
    this.send({ type: "start", options: { chunkSize, readAheadBytes, sliceBytes, limit } });
    worker.on("message", (message: FromPlainWorker) => this.received(message));
    worker.on("error", (error) => this.failed("thread", error));
    worker.on("exit", (code) => this.failed("thread", new Error(`gunzip thread exited with code ${code}`)));
  }

  write(gzip: Buffer): boolean {
    if (this.closed) return true;
    for (let from = 0; from < gzip.length; ) {
      const n = Math.min(gzip.length - from, this.stage.length - this.staged);
      this.stage.set(n === gzip.length ? gzip : gzip.subarray(from, from + n), this.staged);
      this.staged += n;
      from += n;
      if (this.staged === this.stage.length) this.handOver();
    }
    // Small pieces go at once while the worker is idle or the backlog is reached; while it is busy
    // they are gathered into one message.
    const backlog = this.inFlightBytes + this.staged >= this.options.backlogBytes;
    if (this.staged > 0 && (backlog || this.inFlight.length === 0)) this.handOver();
    this.blocked = this.inFlightBytes >= this.options.backlogBytes;
    return !this.blocked;
  }

  end(): void {
    if (this.closed || this.ended) return;
    if (this.staged > 0) this.handOver();
    this.ended = true;
    this.worker.ref();
    this.send({ type: "end" });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    void this.worker.terminate();
  }

  private send(message: ToPlainWorker, transfer?: ArrayBuffer[]): void {
    this.worker.postMessage(message, transfer);
  }

  private handOver(): void {
    const buffer = this.stage.buffer as ArrayBuffer;
    if (this.inFlight.push(this.staged) === 1) this.worker.ref();
    this.inFlightBytes += this.staged;
    this.send({ type: "gzip", bytes: new Uint8Array(buffer, 0, this.staged) }, [buffer]);
    this.stage = new Uint8Array(this.spare.pop() ?? new ArrayBuffer(this.options.stagingBytes));
    this.staged = 0;
  }

  private received(message: FromPlainWorker): void {
    if (this.closed) return;
    switch (message.type) {
      case "gzipUsed":
        this.inFlightBytes -= this.inFlight.shift() ?? 0;
        if (message.buffer.byteLength === this.options.stagingBytes) this.spare.push(message.buffer);
        if (this.inFlight.length === 0 && !this.ended) this.worker.unref();
        if (this.blocked && this.inFlightBytes < this.options.backlogBytes) {
          this.blocked = false;
          this.events.room();
        }
        return;
      case "done":
        this.close();
        this.events.done(message.figures);
        return;
      case "overflow":
        this.failed("overflow", new Error(`more than ${this.options.limit} plain bytes`));
        return;
      case "notGzip":
        this.failed(
          "gzip",
          Object.assign(new Error(message.message), message.code ? { code: message.code } : {}),
        );
        return;
    }
  }

  private failed(kind: PlainFailure, error: Error): void {
    if (this.closed) return;
    this.close();
    this.events.failed(kind, error);
  }
}
