import { Worker } from "node:worker_threads";

/** What the gunzip thread reports back, on the calling thread, in order. */
export interface GunzipSink {
  /** The next plain bytes; only valid during the call (the buffer goes back to the thread after). */
  plain(bytes: Buffer): void;
  /** Every plain byte has been delivered; `md5` is their MD5 (hex), computed by the thread. */
  end(md5: string): void;
  /** The bytes are not valid gzip (`code` is zlib's), or the thread itself failed. Called once. */
  error(error: Error, kind: "gzip" | "thread"): void;
  /** `write` returned false earlier and may be called again. */
  room(): void;
}

export interface OffThreadGunzipOptions {
  /** zlib's output chunk size in the thread. */
  chunkSize: number;
  /** GZip bytes handed over (or staged) but not yet inflated at which `write` returns false. */
  backlogBytes: number;
  /** Size of the reusable buffers that carry bytes between the threads. */
  gzipStagingBytes: number;
  plainStagingBytes: number;
  /** Plain buffers the thread may have sent and not had back before it pauses inflating. */
  plainBuffersInFlight: number;
  /** Plain bytes the thread hashes between turns of its event loop (zlib's callbacks run between). */
  hashSliceBytes: number;
}

/**
 * The worker's whole program, evaluated as a script (`eval: true`): a string rather than a
 * file so that it survives bundling (scripts/bundle.ts and SST put each handler into one .mjs, and
 * esbuild does not follow `new Worker(new URL(…))`), and needs no type stripping.
 *
 * Messages in: first the options (OffThreadGunzipOptions' worker part), then a Uint8Array of GZip bytes (a staging buffer, transferred; handed back once zlib has
 * consumed it), an ArrayBuffer (a plain staging buffer handed back), "end". Messages out: a
 * Uint8Array of plain bytes, already hashed (transferred), an ArrayBuffer (a GZip buffer handed
 * back), { end: md5 } once every plain byte is out, or { error, code } once if zlib refuses the bytes.
 */
const WORKER_SOURCE = `
// getBuiltinModule, not require: a worker inherits the process's flags, and under --input-type=module
// an eval'd worker is an ES module, where require does not exist.
const { parentPort } = process.getBuiltinModule("node:worker_threads");
// Loaded while the thread boots (it may boot ahead of need: warmUpGunzipThread), not on the first file.
const zlib = process.getBuiltinModule("node:zlib");
const crypto = process.getBuiltinModule("node:crypto");
parentPort.once("message", start);
function start({ chunkSize, plainStagingBytes, plainBuffersInFlight, hashSliceBytes }) {
// zlib takes a fresh output buffer (Buffer.allocUnsafe(chunkSize)) each time one is full: 1 GiB of
// garbage per GiB inflated, which V8 frees only in full GCs (+~60 MiB RSS). Only zlib allocates in
// this isolate, so its buffers come from a free list instead: one is free again once a slice of the
// next one arrives (zlib moves on only from a full buffer, and every slice is copied as it arrives).
const free = [];
const allocUnsafe = Buffer.allocUnsafe;
Buffer.allocUnsafe = (size) => (size === chunkSize && free.pop()) || allocUnsafe(size);
let current;
const inflater = zlib.createGunzip({ chunkSize });
const hash = crypto.createHash("md5");
const spare = [];
let stage = new Uint8Array(plainStagingBytes);
let staged = 0;
let out = 0;
// Filled staging buffers, hashed in slices from a setImmediate (never inside zlib's callback, which
// must re-arm zlib first), then sent on.
const filled = [];
let hashed = 0;
let scheduled = false;
let inflated = false;
function handOver() {
  filled.push(new Uint8Array(stage.buffer, 0, staged));
  out++;
  stage = new Uint8Array(spare.pop() ?? new ArrayBuffer(plainStagingBytes));
  staged = 0;
  schedule();
}
function schedule() {
  if (scheduled || filled.length === 0) return;
  scheduled = true;
  setImmediate(hashSlice);
}
function hashSlice() {
  scheduled = false;
  const head = filled[0];
  const end = Math.min(head.length, hashed + hashSliceBytes);
  hash.update(head.subarray(hashed, end));
  hashed = end;
  if (end === head.length) {
    filled.shift();
    hashed = 0;
    parentPort.postMessage(head, [head.buffer]);
    if (inflated && filled.length === 0) finish();
  }
  schedule();
}
function finish() {
  parentPort.postMessage({ end: hash.digest("hex") });
}
inflater.on("data", (chunk) => {
  if (chunk.buffer !== current?.buffer) {
    if (current?.length === chunkSize && free.length < 2) free.push(current);
    current = Buffer.from(chunk.buffer, 0, chunk.buffer.byteLength);
  }
  for (let from = 0; from < chunk.length; ) {
    const n = Math.min(chunk.length - from, stage.length - staged);
    stage.set(n === chunk.length ? chunk : chunk.subarray(from, from + n), staged);
    staged += n;
    from += n;
    if (staged === stage.length) handOver();
  }
  if (out >= plainBuffersInFlight) inflater.pause();
});
inflater.on("end", () => {
  inflated = true;
  if (staged > 0) handOver();
  else if (filled.length === 0) finish();
});
inflater.on("error", (err) => {
  parentPort.postMessage({ error: err.message, code: err.code });
});
parentPort.on("message", (message) => {
  if (message instanceof Uint8Array) {
    inflater.write(message, () => parentPort.postMessage(message.buffer, [message.buffer]));
  } else if (message instanceof ArrayBuffer) {
    out--;
    if (message.byteLength === plainStagingBytes) spare.push(message);
    if (out < plainBuffersInFlight) inflater.resume();
  } else if (message === "end") {
    inflater.end();
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
 * Gunzip and the plain MD5 on a worker thread; the plain bytes come back for the framing check.
 *
 * Why (measured with `imvault archive`, 1 GiB plain, 2 cores): with zlib and both MD5s on the main
 * thread, that thread was the critical path (3.6 s CPU: MD5s, I/O, zlib's callbacks, GC), and zlib's
 * fresh output buffer per chunk (1 GiB of garbage) in the main isolate, whose heap holds the AWS SDK
 * and the CLI, cost ~2 s of GC CPU more. Here zlib still inflates on the libuv threadpool, but its
 * callbacks run in this worker, whose output buffers are recycled (see WORKER_SOURCE), and the plain
 * MD5 (the bulk of the hashing) runs here in slices between zlib's callbacks. The main thread keeps
 * the I/O, the GZip MD5 and the framing. Bytes cross in reusable staging buffers that are
 * transferred, not cloned: the calling thread copies each GZip byte once (it passes its chunks on
 * downstream, so it cannot give them away) and the worker each plain byte once (zlib's chunks share
 * ArrayBuffers it is still filling).
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
      plainStagingBytes: options.plainStagingBytes,
      plainBuffersInFlight: options.plainBuffersInFlight,
      hashSliceBytes: options.hashSliceBytes,
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
    if (message instanceof Uint8Array) {
      const buffer = message.buffer as ArrayBuffer;
      this.sink.plain(Buffer.from(buffer, message.byteOffset, message.length));
      // Back to the worker for reuse (the sink is done with it: see GunzipSink.plain).
      if (!this.closed) this.worker.postMessage(buffer, [buffer]);
    } else if (message instanceof ArrayBuffer) {
      this.inFlightBytes -= this.inFlight.shift() ?? 0;
      if (message.byteLength === this.options.gzipStagingBytes) this.spare.push(message);
      if (this.inFlight.length === 0 && !this.ended) this.worker.unref();
      if (this.blocked && this.inFlightBytes < this.options.backlogBytes) {
        this.blocked = false;
        this.sink.room();
      }
    } else if (typeof (message as { end?: unknown }).end === "string") {
      this.done = true;
      this.close();
      this.sink.end((message as { end: string }).end);
    } else {
      const { error, code } = message as { error: string; code?: string };
      this.failed(Object.assign(new Error(error), code === undefined ? {} : { code }), "gzip");
    }
  }

  private failed(error: Error, kind: "gzip" | "thread"): void {
    if (this.closed || this.done) return;
    this.close();
    this.sink.error(error, kind);
  }
}
