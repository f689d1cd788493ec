/**
 * The worker thread's program (started by WorkerPlainSide): inflates the GZip bytes it is sent
 * (RawGunzip), hashes and frames the plain bytes (PlainHasher) and sends back only the figures, so
 * the plain bytes never cross between threads.
 *
 * Bundled as a file of its own (plain-worker.mjs, next to the bundle that starts it: see
 * scripts/bundle.ts); from the sources, Node runs this file itself.
 */
import { parentPort } from "node:worker_threads";
import { type PlainFigures, PlainHasher } from "./plain-hasher.ts";
import { RawGunzip } from "./raw-gunzip.ts";

/** The settings the worker gets with "start". */
export interface PlainWorkerOptions {
  /** zlib's output chunk size. */
  chunkSize: number;
  /** Plain bytes that may wait to be hashed before inflating pauses. */
  readAheadBytes: number;
  /** Plain bytes hashed between turns of the event loop. */
  sliceBytes: number;
  /** More plain bytes than this is an overflow. */
  limit: number;
}

/** Messages to the worker: "start" once, then GZip bytes, then "end". */
export type ToPlainWorker =
  | { type: "start"; options: PlainWorkerOptions }
  /** GZip bytes in a staging buffer, transferred; handed back ("gzipUsed") once zlib is done with them. */
  | { type: "gzip"; bytes: Uint8Array }
  | { type: "end" };

/** Messages from the worker: "gzipUsed" for each "gzip", then one of the others, once. */
export type FromPlainWorker =
  | { type: "gzipUsed"; buffer: ArrayBuffer }
  | { type: "done"; figures: PlainFigures }
  /** More than `limit` plain bytes; the worker stopped inflating there. */
  | { type: "overflow" }
  /** zlib refused the bytes (`code` as zlib's). */
  | { type: "notGzip"; message: string; code: string | undefined };

/**
 * zlib's output buffers, reused. zlib takes a fresh output buffer (Buffer.allocUnsafe(chunkSize))
 * each time one is full: a gigabyte of garbage per gigabyte inflated, which V8 frees only in full
 * GCs. Only zlib allocates buffers of exactly chunkSize in this isolate, so they come from a free
 * list instead. The plain bytes are hashed where zlib put them (no copy): a buffer goes back on the
 * list once zlib has moved on from it and every chunk of it is hashed.
 */
class OutputBuffers {
  private readonly chunkSize: number;
  /** Enough to take back every buffer the read-ahead can hold: one dropped here is garbage. */
  private readonly maxFree: number;
  private readonly free: Buffer<ArrayBuffer>[] = [];
  /** For each buffer: how many of its chunks wait to be hashed. */
  private readonly pending = new Map<ArrayBufferLike, number>();
  /** The buffer zlib fills now. */
  private filling: ArrayBufferLike | undefined;

  constructor(chunkSize: number, readAheadBytes: number) {
    this.chunkSize = chunkSize;
    this.maxFree = Math.ceil(readAheadBytes / chunkSize) + 2;
    const allocUnsafe = Buffer.allocUnsafe;
    Buffer.allocUnsafe = (size: number) => (size === chunkSize && this.free.pop()) || allocUnsafe(size);
  }

  /** zlib emitted `chunk`: its buffer is in use until the chunk is hashed. */
  emitted(chunk: Buffer): void {
    if (chunk.buffer !== this.filling) {
      // zlib moved on to a new buffer: the last one is free once its chunks are hashed.
      if (this.filling !== undefined && !this.pending.has(this.filling)) this.recycle(this.filling);
      this.filling = chunk.buffer;
    }
    this.pending.set(chunk.buffer, (this.pending.get(chunk.buffer) ?? 0) + 1);
  }

  /** `chunk` is hashed. */
  hashed(chunk: Buffer): void {
    const left = this.pending.get(chunk.buffer)! - 1;
    if (left > 0) {
      this.pending.set(chunk.buffer, left);
    } else {
      this.pending.delete(chunk.buffer);
      if (chunk.buffer !== this.filling) this.recycle(chunk.buffer);
    }
  }

  private recycle(buffer: ArrayBufferLike): void {
    // Only zlib's own buffers (small ones come from Node's shared pool).
    if (buffer.byteLength === this.chunkSize && this.free.length < this.maxFree) {
      this.free.push(Buffer.from(buffer as ArrayBuffer));
    }
  }
}

/** Inflates, hashes and frames one file, as the messages come. */
function start(port: NonNullable<typeof parentPort>, options: PlainWorkerOptions): void {
  const send = (message: FromPlainWorker, transfer?: ArrayBuffer[]) => port.postMessage(message, transfer);
  const buffers = new OutputBuffers(options.chunkSize, options.readAheadBytes);
  let stopped = false;
  const hasher = new PlainHasher(options, {
    room: () => inflater.resume(),
    hashed: (chunk) => buffers.hashed(chunk),
    overflow: () => {
      stopped = true;
      inflater.destroy();
      send({ type: "overflow" });
    },
    done: (figures) => send({ type: "done", figures }),
  });
  const inflater = new RawGunzip(options.chunkSize, {
    data: (chunk) => {
      if (stopped) return;
      buffers.emitted(chunk);
      if (!hasher.push(chunk)) inflater.pause();
    },
    end: () => hasher.end(),
    error: (error) => {
      if (stopped) return;
      stopped = true;
      hasher.stop();
      send({ type: "notGzip", message: error.message, code: error.code });
    },
  });
  const handBack = (bytes: Uint8Array) => {
    const buffer = bytes.buffer as ArrayBuffer;
    send({ type: "gzipUsed", buffer }, [buffer]);
  };
  port.on("message", (message: ToPlainWorker) => {
    if (message.type === "gzip") {
      if (stopped) handBack(message.bytes);
      else inflater.write(message.bytes, () => handBack(message.bytes));
    } else if (message.type === "end") {
      if (!stopped) inflater.end();
    }
  });
}

// Does nothing where there is no parent (imported on a main thread, e.g. for its types).
parentPort?.once("message", (message: ToPlainWorker) => {
  if (message.type === "start") start(parentPort!, message.options);
});
