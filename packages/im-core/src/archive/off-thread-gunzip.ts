import { Worker } from "node:worker_threads";
import { createHistoryFraming } from "./history-framing.ts";
import { createRawGunzip } from "./raw-gunzip.ts";

/** What the thread measured of the plain bytes, once they are all inflated. */
export interface PlainFigures {
  /** Plain bytes inflated. */
  size: number;
  /** Their MD5, hex. */
  md5: string;
  /** The framing check's results (see createHistoryFraming). */
  messageCount: number;
  framingProblem: string | undefined;
}

/** What the gunzip thread reports back, on the calling thread. */
export interface GunzipSink {
  /** Every plain byte is inflated, hashed and framed. */
  end(figures: PlainFigures): void;
  /**
   * Called once: the bytes are not valid gzip (`code` is zlib's), they inflate to more than
   * `plainLimit` bytes (the thread stopped inflating there), or the thread itself failed.
   */
  error(error: Error, kind: "gzip" | "overflow" | "thread"): void;
  /** `write` returned false earlier and may be called again. */
  room(): void;
}

export interface OffThreadGunzipOptions {
  /** zlib's output chunk size in the thread. */
  chunkSize: number;
  /** GZip bytes handed over (or staged) but not yet inflated at which `write` returns false. */
  backlogBytes: number;
  /** Size of the reusable buffers that carry GZip bytes to the thread. */
  gzipStagingBytes: number;
  /** Inflated bytes waiting to be hashed and framed at which the thread pauses inflating. */
  plainReadAheadBytes: number;
  /** Plain bytes the thread hashes between turns of its event loop (zlib's callbacks run between). */
  hashSliceBytes: number;
  /** More plain bytes than this is an error ("overflow"): a gzip bomb stops here. */
  plainLimit: number;
}

/**
 * The worker's whole program, evaluated as a script (`eval: true`): a string rather than a file so
 * that it survives bundling (scripts/bundle.ts and SST put each handler into one .mjs, and esbuild
 * does not follow `new Worker(new URL(…))`), and needs no type stripping. The framing check and
 * the gunzip are createHistoryFraming's and createRawGunzip's own source text (see there why that is
 * safe).
 *
 * Messages in: first the options (OffThreadGunzipOptions' worker part), then a Uint8Array of GZip
 * bytes (a staging buffer, transferred; handed back once zlib has consumed it), "end". Messages out:
 * an ArrayBuffer (a GZip buffer handed back), then once: { end: PlainFigures } after the last plain
 * byte, { overflow: true } past plainLimit, or { error, code } if zlib refuses the bytes.
 */
const WORKER_SOURCE = `
// getBuiltinModule, not require: a worker inherits the process's flags, and under --input-type=module
// an eval'd worker is an ES module, where require does not exist.
const { parentPort } = process.getBuiltinModule("node:worker_threads");
// Loaded while the thread boots (it may boot ahead of need: warmUpGunzipThread), not on the first file.
const zlib = process.getBuiltinModule("node:zlib");
const crypto = process.getBuiltinModule("node:crypto");
const createHistoryFraming = (${String(createHistoryFraming)});
const createRawGunzip = (${String(createRawGunzip)});
parentPort.once("message", start);
function start({ chunkSize, plainReadAheadBytes, hashSliceBytes, plainLimit }) {
  // zlib takes a fresh output buffer (Buffer.allocUnsafe(chunkSize)) each time one is full: 1 GiB of
  // garbage per GiB inflated, which V8 frees only in full GCs (+~60 MiB RSS). Only zlib allocates in
  // this isolate, so its buffers come from a free list instead. The plain bytes are hashed and framed
  // where zlib put them (no copy): a buffer goes back on the list once zlib has moved on from it and
  // every slice of it is hashed.
  const free = [];
  const allocUnsafe = Buffer.allocUnsafe;
  Buffer.allocUnsafe = (size) => (size === chunkSize && free.pop()) || allocUnsafe(size);
  const hash = crypto.createHash("md5");
  const framing = createHistoryFraming();
  // zlib's chunks not yet hashed, oldest first; how many of each buffer's chunks are among them; the
  // buffer zlib filled last.
  const queue = [];
  const pending = new Map();
  let filling;
  let queued = 0;
  let done = 0;
  let size = 0;
  let stopped = false;
  let scheduled = false;
  let inflated = false;
  // Enough to take back every buffer the read-ahead can hold: one dropped here is garbage, and zlib
  // takes a fresh one instead.
  const maxFree = Math.ceil(plainReadAheadBytes / chunkSize) + 2;
  function recycle(buffer) {
    if (buffer.byteLength === chunkSize && free.length < maxFree) free.push(Buffer.from(buffer));
  }
  function schedule() {
    if (scheduled || queue.length === 0 || stopped) return;
    scheduled = true;
    setImmediate(slice);
  }
  // Hashes and frames one slice, then yields: zlib's callback (which re-arms it) never waits long.
  function slice() {
    scheduled = false;
    if (stopped) return;
    const head = queue[0];
    const end = Math.min(head.length, done + hashSliceBytes);
    const piece = done === 0 && end === head.length ? head : head.subarray(done, end);
    hash.update(piece);
    framing.push(piece);
    queued -= piece.length;
    done = end;
    if (end === head.length) {
      queue.shift();
      done = 0;
      const left = pending.get(head.buffer) - 1;
      if (left > 0) pending.set(head.buffer, left);
      else {
        pending.delete(head.buffer);
        if (head.buffer !== filling) recycle(head.buffer);
      }
      if (queued < plainReadAheadBytes) inflater.resume();
      if (inflated && queue.length === 0) finish();
    }
    schedule();
  }
  function finish() {
    framing.finish();
    const figures = { size, md5: hash.digest("hex"), messageCount: framing.messageCount, framingProblem: framing.problem };
    parentPort.postMessage({ end: figures });
  }
  const inflater = createRawGunzip(zlib, chunkSize, { data, end, error });
  function data(chunk) {
    if (stopped) return;
    size += chunk.length;
    if (size > plainLimit) {
      stopped = true;
      inflater.destroy();
      parentPort.postMessage({ overflow: true });
      return;
    }
    if (chunk.buffer !== filling) {
      if (filling !== undefined && !pending.has(filling)) recycle(filling);
      filling = chunk.buffer;
    }
    pending.set(filling, (pending.get(filling) ?? 0) + 1);
    queue.push(chunk);
    queued += chunk.length;
    if (queued >= plainReadAheadBytes) inflater.pause();
    schedule();
  }
  function end() {
    if (stopped) return;
    inflated = true;
    if (queue.length === 0) finish();
  }
  function error(err) {
    if (stopped) return;
    stopped = true;
    parentPort.postMessage({ error: err.message, code: err.code });
  }
  parentPort.on("message", (message) => {
    if (message instanceof Uint8Array) {
      if (stopped) parentPort.postMessage(message.buffer, [message.buffer]);
      else inflater.write(message, () => parentPort.postMessage(message.buffer, [message.buffer]));
    } else if (message === "end") {
      if (!stopped) inflater.end();
    }
  });
}
`;

/** A booted thread that no file has taken yet (see warmUpGunzipThread). */
let spareThread: Worker | undefined;

/** Unref'd: a thread that has nothing outstanding never keeps the process alive. */
function startThread(): Worker {
  const worker = new Worker(WORKER_SOURCE, { eval: true });
  worker.unref();
  return worker;
}

function takeThread(): Worker {
  const worker = spareThread ?? startThread();
  spareThread = undefined;
  return worker;
}

/**
 * Boots a gunzip thread ahead of need, for the next OffThreadGunzip to take. Booting one takes
 * ~35 ms (2 cores, Node 24), and without this it happens after a download's first bytes, with the
 * inflate waiting: on a 100 MiB hour that is ~15% of the two-core limit. Called while get_history is
 * on its way, it boots during the round trip instead. At most one waits, holding no data; one that
 * dies while it waits is forgotten and the next file starts its own.
 */
export function warmUpGunzipThread(): void {
  if (spareThread !== undefined) return;
  const worker = startThread();
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

/**
 * Gunzip, the plain MD5 and the framing check on a worker thread; only the figures come back.
 *
 * Why (measured with `imvault archive`, 1 GiB plain, 2 cores): with zlib and both MD5s on the main
 * thread, that thread was the critical path (3.6 s CPU: MD5s, I/O, zlib's callbacks, GC), and zlib's
 * fresh output buffer per chunk (1 GiB of garbage) in the main isolate, whose heap holds the AWS SDK
 * and the CLI, cost ~2 s of GC CPU more. Here zlib still inflates on the libuv threadpool, but its
 * callbacks run in this worker, whose output buffers are recycled (see WORKER_SOURCE), and the plain
 * MD5 (the bulk of the hashing) and the framing check run here in slices between zlib's callbacks.
 * The main thread keeps the I/O and the GZip MD5. The framing check used to run on the main thread,
 * on plain buffers sent back: moving it here, where the bytes are still in cache, took ~0.4 s of CPU
 * and ~0.25 s of wall time off a 1 GiB hour (measured with `imvault archive`, 2 cores). GZip bytes
 * cross in reusable staging buffers that are transferred, not cloned (the calling thread copies each
 * once: it passes its chunks on downstream, so it cannot give them away). The plain bytes are hashed
 * in zlib's own output buffers, recycled once hashed: copying them into buffers of the thread's own
 * first cost ~60 ms of CPU per 100 MiB, and the verifier alone (file → null, 100 MiB hour, 2 cores)
 * went from ~390 to ~330 ms (means of 5 runs) without the copy.
 *
 * The worker is unref'd whenever nothing is outstanding, so a stream abandoned mid-way never keeps
 * the process alive; `close` terminates it.
 */
export class OffThreadGunzip {
  private readonly worker: Worker;
  private readonly sink: GunzipSink;
  private readonly options: OffThreadGunzipOptions;
  private readonly spare: ArrayBuffer[] = [];
  private stage: Uint8Array;
  private staged = 0;
  /** GZip bytes handed to the worker and not yet back, oldest first (the worker answers in order). */
  private readonly inFlight: number[] = [];
  private inFlightBytes = 0;
  private ended = false;
  private done = false;
  private closed = false;
  private blocked = false;

  constructor(sink: GunzipSink, options: OffThreadGunzipOptions) {
    this.sink = sink;
    this.options = options;
    this.stage = new Uint8Array(options.gzipStagingBytes);
    this.worker = takeThread();
    this.worker.postMessage({
      chunkSize: options.chunkSize,
      plainReadAheadBytes: options.plainReadAheadBytes,
      hashSliceBytes: options.hashSliceBytes,
      plainLimit: options.plainLimit,
    });
    this.worker.on("message", (message: unknown) => this.received(message));
    this.worker.on("error", (error) => this.failed(error, "thread"));
    this.worker.on("exit", (code) =>
      this.failed(new Error(`gunzip thread exited with code ${code}`), "thread"),
    );
  }

  /** Copies the bytes; returns false when the backlog is full (wait for `sink.room`). */
  write(chunk: Uint8Array): boolean {
    if (this.closed) return true;
    for (let from = 0; from < chunk.length; ) {
      const n = Math.min(chunk.length - from, this.stage.length - this.staged);
      this.stage.set(n === chunk.length ? chunk : chunk.subarray(from, from + n), this.staged);
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

  /** No more GZip bytes: the sink's `end` follows the last plain bytes. */
  end(): void {
    if (this.closed || this.ended) return;
    if (this.staged > 0) this.handOver();
    this.ended = true;
    this.worker.ref();
    this.worker.postMessage("end");
  }

  /** Stops the thread; nothing more reaches the sink. Safe to call more than once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    void this.worker.terminate();
  }

  private handOver(): void {
    const buffer = this.stage.buffer as ArrayBuffer;
    if (this.inFlight.push(this.staged) === 1) this.worker.ref();
    this.inFlightBytes += this.staged;
    this.worker.postMessage(new Uint8Array(buffer, 0, this.staged), [buffer]);
    this.stage = new Uint8Array(this.spare.pop() ?? new ArrayBuffer(this.options.gzipStagingBytes));
    this.staged = 0;
  }

  private received(message: unknown): void {
    if (this.closed) return;
    if (message instanceof ArrayBuffer) {
      this.inFlightBytes -= this.inFlight.shift() ?? 0;
      if (message.byteLength === this.options.gzipStagingBytes) this.spare.push(message);
      if (this.inFlight.length === 0 && !this.ended) this.worker.unref();
      if (this.blocked && this.inFlightBytes < this.options.backlogBytes) {
        this.blocked = false;
        this.sink.room();
      }
    } else if ("end" in (message as object)) {
      this.done = true;
      this.close();
      this.sink.end((message as { end: PlainFigures }).end);
    } else if ("overflow" in (message as object)) {
      this.failed(new Error(`more than ${this.options.plainLimit} plain bytes`), "overflow");
    } else {
      const { error, code } = message as { error: string; code?: string };
      this.failed(Object.assign(new Error(error), code === undefined ? {} : { code }), "gzip");
    }
  }

  private failed(error: Error, kind: "gzip" | "overflow" | "thread"): void {
    if (this.closed || this.done) return;
    this.close();
    this.sink.error(error, kind);
  }
}
