import { createHash, type Hash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { createGunzip, type Gunzip, type ZlibOptions } from "node:zlib";
import { IntegrityError } from "../errors.ts";
import { createHistoryFraming } from "./history-framing.ts";
import { type GunzipSink, OffThreadGunzip, type PlainFigures } from "./off-thread-gunzip.ts";

/** What get_history advertises for one file. */
export interface ExpectedFigures {
  gzipSize: number;
  gzipMd5: string;
  fileSize: number;
  fileMd5: string;
}

/** What the verifier measured; equal to the expected figures, plus the message count. */
export interface VerifiedFigures extends ExpectedFigures {
  messageCount: number;
  /**
   * Set when the bytes match all four of Tencent's figures but the plain text is not laid out as
   * documented (one message a line). Such a file is still Tencent's exact file, so it is kept, with
   * this note, rather than refused until Tencent deletes it; messageCount then counts the lines read
   * before the deviation.
   */
  framingProblem?: string;
}

export interface VerifierOptions {
  /** Refuse files whose plain size exceeds this (a gzip-bomb guard independent of Tencent's figures). */
  maxPlainBytes?: number;
  /** zlib output chunk size; larger chunks mean fewer threadpool round trips. */
  inflateChunkSize?: number;
  /** How many GZip bytes may wait for the inflater before the stream stops accepting writes. */
  inflateBacklogBytes?: number;
  /** How many inflated bytes may wait to be hashed before zlib is paused. */
  plainReadAheadBytes?: number;
  /** How many plain bytes are hashed between yields to the event loop (see the class comment). */
  hashSliceBytes?: number;
  /**
   * Gunzip on a worker thread when the advertised plain size is at least this (see OffThreadGunzip
   * for why); 0 = always, Infinity = never. Below it the thread's start-up (~10–50 ms) costs more
   * than it saves.
   */
  inflateWorkerFromBytes?: number;
}

export interface Verifier {
  /** Pass-through of the GZip bytes; errors with IntegrityError on any mismatch, before it ends. */
  stream: Transform;
  /** Resolves with the verified figures once the stream has finished; rejects if it errors. */
  figures: Promise<VerifiedFigures>;
}

/** With the gunzip thread: buffers carrying GZip bytes to it; plain bytes it may hold unhashed. */
const WORKER_GZIP_STAGING_BYTES = 256 * 1024;
const WORKER_PLAIN_READ_AHEAD_BYTES = 4 * 1024 * 1024;
/**
 * zlib's output chunk in the thread (unless `inflateChunkSize` is given): each chunk is one round
 * trip between the threadpool and the thread, and 1 MiB measured faster than 256 KiB there.
 */
const WORKER_INFLATE_CHUNK_BYTES = 1024 * 1024;

/** Which figure an IntegrityError from the verifier names (its `details.figure`). */
export type VerifierFigure =
  | "gzipSize"
  | "gzipMd5"
  | "fileSize"
  | "fileMd5"
  | "maxPlainBytes"
  | "gzip"
  | "framing"
  | "incomplete";

export const VERIFIER_DEFAULTS = {
  inflateChunkSize: 256 * 1024,
  inflateBacklogBytes: 1024 * 1024,
  plainReadAheadBytes: 1024 * 1024,
  hashSliceBytes: 64 * 1024,
  inflateWorkerFromBytes: 16 * 1024 * 1024,
} as const satisfies Required<Omit<VerifierOptions, "maxPlainBytes">>;

function mismatch(
  figure: VerifierFigure,
  expected: number | string,
  actual: number | string,
): IntegrityError {
  return new IntegrityError(`history file ${figure} mismatch: expected ${expected}, got ${actual}`, {
    figure,
    expected,
    actual,
  });
}

function overflow(figure: VerifierFigure, limit: number, label: string): IntegrityError {
  return new IntegrityError(`history file has more than ${limit} ${label} bytes (${figure})`, {
    figure,
    expected: limit,
    actual: `>${limit}`,
  });
}

/**
 * One pass over a downloaded history file: the GZip bytes flow through unchanged (to the store) while
 * they are counted and MD5'd, inflated, and the plain bytes counted, MD5'd and checked for framing.
 *
 * Files of `inflateWorkerFromBytes` and more are inflated and their plain bytes MD5'd by
 * OffThreadGunzip, a worker thread that also checks their framing (why, with measurements: see
 * there); it inflates each gzip member raw, without zlib's CRC-32 (createRawGunzip), which the plain
 * MD5 makes redundant. This thread keeps the I/O and the GZip MD5. Where no worker can be started,
 * and for smaller files (the worker's start-up costs more than it saves), it all happens here with
 * Node's Gunzip, as follows.
 *
 * The two cores overlap: zlib inflates on the libuv threadpool while the main thread hashes. zlib
 * only gets its next piece of work from a callback on the main thread, so (1) its output is read in
 * paused mode into a bounded queue: zlib is re-armed before anything is hashed (a flowing 'data'
 * listener would hash inside zlib's callback, before re-arming it); (2) the queue is hashed in slices
 * of `hashSliceBytes` with a yield (setImmediate) between slices, so a finished zlib piece waits at
 * most one slice for its callback instead of a whole chunk; (3) zlib has a backlog of GZip input
 * (`inflateBacklogBytes`) so it never waits for the network or the disk. Memory stays bounded by
 * those settings whatever the file's size.
 *
 * The stream's end waits until everything is verified; on any fault it errors with IntegrityError
 * (`details.figure` says which), so a `store.put` reading it rejects and keeps nothing.
 */
export function createVerifier(expected: ExpectedFigures, options: VerifierOptions = {}): Verifier {
  const verifier = new VerifyingStream(expected, options);
  const figures = verifier.figures;
  // The caller may only watch the stream; do not turn a rejection into an unhandled one.
  figures.catch(() => {});
  return { stream: verifier, figures };
}

class VerifyingStream extends Transform {
  readonly figures: Promise<VerifiedFigures>;
  private readonly expected: ExpectedFigures;
  private readonly plainLimit: number;
  private readonly gzipHash: Hash = createHash("md5");
  private readonly plainHash: Hash = createHash("md5");
  private readonly framing = createHistoryFraming();
  private inflater: Gunzip | undefined;
  /** The gunzip thread (large files), started by the first GZip bytes: an unused verifier starts none. */
  private offThread: OffThreadGunzip | undefined;
  /** What the gunzip thread measured of the plain bytes, once it has. */
  private offThreadFigures: PlainFigures | undefined;
  private useWorker: boolean;
  private readonly inflateChunkSize: number | undefined;
  private readonly backlog: number;
  private gzipBytes = 0;
  private plainBytes = 0;
  private failure: Error | undefined;
  private settled = false;
  /** A write callback held until the inflater drains (its backlog is full). */
  private pendingWrite: TransformCallback | undefined;
  /** The flush callback, held until the inflater has ended. */
  private pendingFlush: TransformCallback | undefined;
  /** Plain chunks read from zlib, not yet hashed; `headOffset` bytes of the first are done. */
  private readonly queue: Buffer[] = [];
  private queuedBytes = 0;
  private headOffset = 0;
  private pumpScheduled = false;
  private inflaterDone = false;
  /** plainReadAheadBytes as given; like inflateChunkSize, each path has its own default. */
  private readonly readAheadOption: number | undefined;
  private readonly slice: number;
  private resolveFigures!: (figures: VerifiedFigures) => void;
  private rejectFigures!: (error: Error) => void;

  constructor(expected: ExpectedFigures, options: VerifierOptions) {
    super();
    this.expected = {
      ...expected,
      gzipMd5: expected.gzipMd5.toLowerCase(),
      fileMd5: expected.fileMd5.toLowerCase(),
    };
    this.readAheadOption = options.plainReadAheadBytes;
    this.slice = options.hashSliceBytes ?? VERIFIER_DEFAULTS.hashSliceBytes;
    this.plainLimit = Math.min(expected.fileSize, options.maxPlainBytes ?? Number.POSITIVE_INFINITY);
    this.figures = new Promise<VerifiedFigures>((resolve, reject) => {
      this.resolveFigures = resolve;
      this.rejectFigures = reject;
    });
    this.inflateChunkSize = options.inflateChunkSize;
    this.backlog = options.inflateBacklogBytes ?? VERIFIER_DEFAULTS.inflateBacklogBytes;
    this.useWorker =
      expected.fileSize >= (options.inflateWorkerFromBytes ?? VERIFIER_DEFAULTS.inflateWorkerFromBytes);
    this.inflater = this.useWorker ? undefined : this.inThreadInflater();
    if (expected.fileSize > this.plainLimit) {
      this.failure = overflow("maxPlainBytes", this.plainLimit, "plain");
    }
  }

  private inThreadInflater(): Gunzip {
    // zlib passes its options on to Transform, so a stream option sets the backlog (the types omit it).
    const zlibOptions: ZlibOptions & { writableHighWaterMark: number } = {
      chunkSize: this.inflateChunkSize ?? VERIFIER_DEFAULTS.inflateChunkSize,
      writableHighWaterMark: this.backlog,
    };
    const inflater = createGunzip(zlibOptions);
    inflater.on("readable", () => this.drainPlain());
    inflater.on("drain", () => this.releaseWrite());
    inflater.on("error", (err) => this.notGzip(err));
    inflater.on("end", () => this.inflaterEnded());
    return inflater;
  }

  /** Starts the worker once; if none can be started here, inflates on this thread instead. */
  private startWorker(): void {
    if (this.offThread) return;
    try {
      this.offThread = this.offThreadInflater();
    } catch {
      this.useWorker = false;
      this.inflater = this.inThreadInflater();
    }
  }

  private offThreadInflater(): OffThreadGunzip {
    const sink: GunzipSink = {
      end: (figures) => {
        this.offThreadFigures = figures;
        this.inflaterEnded();
      },
      error: (err, kind) => {
        if (kind === "gzip") this.notGzip(err);
        else if (kind === "overflow") this.fail(this.plainOverflow());
        else {
          this.fail(
            new IntegrityError(`history file could not be verified: gunzip thread failed: ${err.message}`, {
              figure: "incomplete",
              cause: err,
            }),
          );
        }
      },
      room: () => this.releaseWrite(),
    };
    return new OffThreadGunzip(sink, {
      chunkSize: this.inflateChunkSize ?? WORKER_INFLATE_CHUNK_BYTES,
      backlogBytes: this.backlog,
      gzipStagingBytes: WORKER_GZIP_STAGING_BYTES,
      plainReadAheadBytes: this.readAheadOption ?? WORKER_PLAIN_READ_AHEAD_BYTES,
      hashSliceBytes: this.slice,
      plainLimit: this.plainLimit,
    });
  }

  private releaseWrite(): void {
    const cb = this.pendingWrite;
    this.pendingWrite = undefined;
    cb?.();
  }

  private notGzip(err: Error): void {
    this.fail(
      new IntegrityError(`history file is not valid gzip: ${err.message}`, { figure: "gzip", cause: err }),
    );
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.gzipBytes += chunk.length;
    const fault =
      this.failure ??
      (this.gzipBytes > this.expected.gzipSize
        ? overflow("gzipSize", this.expected.gzipSize, "gzip")
        : undefined);
    if (fault) {
      callback(fault);
      return;
    }
    if (this.useWorker) this.startWorker();
    // Hand zlib its work first so it inflates on the threadpool while this thread hashes.
    const roomLeft = this.offThread ? this.offThread.write(chunk) : this.inflater!.write(chunk);
    this.gzipHash.update(chunk);
    this.push(chunk);
    if (roomLeft) callback();
    else this.pendingWrite = callback;
  }

  override _flush(callback: TransformCallback): void {
    // The GZip figures are known now: refuse at once rather than after inflating the rest.
    const gzipMd5 = this.gzipHash.digest("hex");
    const fault =
      this.failure ??
      (this.gzipBytes !== this.expected.gzipSize
        ? mismatch("gzipSize", this.expected.gzipSize, this.gzipBytes)
        : gzipMd5 !== this.expected.gzipMd5
          ? mismatch("gzipMd5", this.expected.gzipMd5, gzipMd5)
          : undefined);
    if (fault) {
      callback(fault);
      return;
    }
    this.pendingFlush = callback;
    if (this.useWorker) this.startWorker();
    if (this.offThread) {
      this.offThread.end();
    } else {
      this.inflater!.end();
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const reason =
      error ??
      this.failure ??
      new IntegrityError("history file stream closed before it was verified", { figure: "incomplete" });
    this.settle(reason);
    this.inflater?.destroy();
    this.offThread?.close();
    callback(error);
  }

  /** Takes what zlib has produced into the queue (which lets zlib go on), up to the read-ahead. */
  private drainPlain(): void {
    const readAhead = this.readAheadOption ?? VERIFIER_DEFAULTS.plainReadAheadBytes;
    while (!this.stopped && this.queuedBytes < readAhead) {
      const chunk: Buffer | null = this.inflater!.read();
      if (chunk === null) break;
      this.queue.push(chunk);
      this.queuedBytes += chunk.length;
    }
    this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumpScheduled || this.queuedBytes === 0 || this.stopped) return;
    this.pumpScheduled = true;
    setImmediate(this.pump);
  }

  /**
   * Hashes and frames at most one slice of queued plain bytes, then yields: zlib's completion
   * callbacks run between slices, so zlib is handed its next piece within a slice's time instead of
   * waiting for a whole chunk to be hashed.
   */
  private readonly pump = (): void => {
    this.pumpScheduled = false;
    let budget = this.slice;
    while (budget > 0 && this.queue.length > 0 && !this.stopped) {
      const head = this.queue[0]!;
      const end = Math.min(head.length, this.headOffset + budget);
      const piece = this.headOffset === 0 && end === head.length ? head : head.subarray(this.headOffset, end);
      budget -= piece.length;
      this.queuedBytes -= piece.length;
      if (end === head.length) {
        this.queue.shift();
        this.headOffset = 0;
      } else {
        this.headOffset = end;
      }
      if (!this.takePlain(piece)) return;
    }
    this.drainPlain();
    if (this.queuedBytes === 0 && this.inflaterDone) this.complete();
  };

  /** Counts, hashes and frames the next plain bytes; false once they exceed the limit. */
  private takePlain(piece: Buffer): boolean {
    this.plainBytes += piece.length;
    if (this.plainBytes > this.plainLimit) {
      this.fail(this.plainOverflow());
      return false;
    }
    this.plainHash.update(piece);
    this.framing.push(piece);
    return true;
  }

  private plainOverflow(): IntegrityError {
    const figure = this.plainLimit < this.expected.fileSize ? "maxPlainBytes" : "fileSize";
    return overflow(figure, this.plainLimit, "plain");
  }

  private inflaterEnded(): void {
    this.inflaterDone = true;
    if (this.queuedBytes === 0) this.complete();
  }

  /** All plain bytes are in: compare the plain figures and let the stream end (or error). */
  private complete(): void {
    const callback = this.pendingFlush;
    if (!callback || this.failure) return;
    this.pendingFlush = undefined;
    const plain = this.offThreadFigures ?? this.inThreadFigures();
    const fault =
      plain.size !== this.expected.fileSize
        ? mismatch("fileSize", this.expected.fileSize, plain.size)
        : plain.md5 !== this.expected.fileMd5
          ? mismatch("fileMd5", this.expected.fileMd5, plain.md5)
          : undefined;
    if (fault) {
      callback(fault);
      return;
    }
    // A framing problem is noted, not fatal (see VerifiedFigures.framingProblem).
    this.settle({
      ...this.expected,
      messageCount: plain.messageCount,
      ...(plain.framingProblem === undefined ? {} : { framingProblem: plain.framingProblem }),
    });
    callback();
  }

  private inThreadFigures(): PlainFigures {
    this.framing.finish();
    return {
      size: this.plainBytes,
      md5: this.plainHash.digest("hex"),
      messageCount: this.framing.messageCount,
      framingProblem: this.framing.problem,
    };
  }

  /** Failed or destroyed: nothing more to do. */
  private get stopped(): boolean {
    return this.failure !== undefined || this.destroyed;
  }

  /** A fault found outside a write or flush callback: error the stream now. */
  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.destroy(error);
  }

  private settle(outcome: VerifiedFigures | Error): void {
    if (this.settled) return;
    this.settled = true;
    if (outcome instanceof Error) this.rejectFigures(outcome);
    else this.resolveFigures(outcome);
  }
}
