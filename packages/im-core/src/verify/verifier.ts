/**
 * The verifier of downloaded history files. In this directory:
 *   verifier.ts              createVerifier: the GZip side (a pass-through Transform) and the verdict
 *   plain-side.ts            what the GZip side hands the GZip bytes to: a plain side, which inflates
 *                            them and counts, hashes and frame-checks the plain bytes
 *   in-thread-plain-side.ts  a plain side on this thread (small files)
 *   worker-plain-side.ts     a plain side on a worker thread (big files), whose program is
 *   plain-worker.ts          (a module of its own, bundled as plain-worker.mjs)
 *   plain-hasher.ts          the hashing loop both plain sides use
 *   history-framing.ts       the line-layout check and message count
 *   raw-gunzip.ts            the worker's gunzip, without zlib's CRC-32
 */
import { createHash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { IntegrityError } from "../errors.ts";
import { InThreadPlainSide } from "./in-thread-plain-side.ts";
import type { PlainFigures } from "./plain-hasher.ts";
import type { PlainFailure, PlainSide, PlainSideEvents } from "./plain-side.ts";
import { startWorkerPlainSide } from "./worker-plain-side.ts";

/**
 * What get_history advertises for one file; a manifest's entry may add the SHA-256s recorded when the
 * file was archived, which are then checked too (older manifests have none).
 */
export interface ExpectedFigures {
  gzipSize: number;
  gzipMd5: string;
  fileSize: number;
  fileMd5: string;
  gzipSha256?: string | undefined;
  fileSha256?: string | undefined;
}

/**
 * What the verifier measured: equal to the expected figures, plus the message count and the SHA-256
 * of the GZip and of the plain bytes, computed in the same pass as the MD5s (what a manifest records).
 */
export interface VerifiedFigures {
  gzipSize: number;
  gzipMd5: string;
  fileSize: number;
  fileMd5: string;
  gzipSha256: string;
  fileSha256: string;
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
  /** How many plain bytes are hashed between yields to the event loop (see PlainHasher). */
  hashSliceBytes?: number;
  /**
   * Inflate and hash on a worker thread when the advertised plain size is at least this; 0 = always,
   * Infinity = never. Below it the thread's start-up costs more than it saves.
   */
  inflateWorkerFromBytes?: number;
}

export interface Verifier {
  /** Pass-through of the GZip bytes; errors with IntegrityError on any mismatch, before it ends. */
  stream: Transform;
  /** Resolves with the verified figures once the stream has finished; rejects if it errors. */
  figures: Promise<VerifiedFigures>;
}

/** Which figure an IntegrityError from the verifier names (its `details.figure`). */
export type VerifierFigure =
  | "gzipSize"
  | "gzipMd5"
  | "fileSize"
  | "fileMd5"
  | "gzipSha256"
  | "fileSha256"
  | "maxPlainBytes"
  | "gzip"
  | "framing"
  | "incomplete";

/** The defaults, on this thread; the worker has its own for the chunk and read-ahead (WORKER_DEFAULTS). */
export const VERIFIER_DEFAULTS = {
  inflateChunkSize: 256 * 1024,
  inflateBacklogBytes: 1024 * 1024,
  plainReadAheadBytes: 1024 * 1024,
  hashSliceBytes: 64 * 1024,
  inflateWorkerFromBytes: 16 * 1024 * 1024,
} as const satisfies Required<Omit<VerifierOptions, "maxPlainBytes">>;

/**
 * On the worker: each zlib chunk is one round trip between the threadpool and the thread, so its
 * chunks are bigger; it may hold more plain bytes unhashed; GZip bytes reach it in staging buffers.
 */
export const WORKER_DEFAULTS = {
  inflateChunkSize: 1024 * 1024,
  plainReadAheadBytes: 4 * 1024 * 1024,
  stagingBytes: 256 * 1024,
} as const;

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
 * they are counted, MD5'd and SHA-256'd here, and handed to a plain side (plain-side.ts) that inflates
 * them and counts, MD5s, SHA-256s and frame-checks the plain bytes. Files of `inflateWorkerFromBytes`
 * and more get a plain side on a worker thread (WorkerPlainSide), smaller ones (or all, where no worker
 * can be started) one on this thread (InThreadPlainSide).
 *
 * The stream's end waits until everything is verified; on any fault it errors with IntegrityError
 * (`details.figure` says which), so a `store.put` reading it rejects and keeps nothing. Memory stays
 * bounded by the options whatever the file's size.
 */
export function createVerifier(expected: ExpectedFigures, options: VerifierOptions = {}): Verifier {
  const stream = new GzipSide(expected, options);
  const figures = stream.result.promise;
  // The caller may only watch the stream; do not turn a rejection into an unhandled one.
  figures.catch(() => {});
  return { stream, figures };
}

/** The verifier's stream: the GZip bytes' figures here, the plain bytes' on the plain side. */
class GzipSide extends Transform {
  readonly result = Promise.withResolvers<VerifiedFigures>();
  private readonly expected: ExpectedFigures;
  private readonly options: VerifierOptions;
  /** What the plain side may inflate to: the advertised size, or less if maxPlainBytes says so. */
  private readonly plainLimit: number;
  private readonly gzipHash = createHash("md5");
  private readonly gzipSha256 = createHash("sha256");
  /** The GZip bytes' SHA-256, once they are over. */
  private gzipSha256Hex = "";
  private gzipBytes = 0;
  /** Started by the first GZip bytes (or the end): a verifier never written to starts no thread. */
  private plain: PlainSide | undefined;
  /** What the plain side measured, once it has. */
  private plainFigures: PlainFigures | undefined;
  private failure: Error | undefined;
  /** A write callback held until the plain side has room. */
  private pendingWrite: TransformCallback | undefined;
  /** The flush callback, held until the plain side is done. */
  private pendingFlush: TransformCallback | undefined;

  constructor(expected: ExpectedFigures, options: VerifierOptions) {
    super();
    this.expected = {
      ...expected,
      gzipMd5: expected.gzipMd5.toLowerCase(),
      fileMd5: expected.fileMd5.toLowerCase(),
      gzipSha256: expected.gzipSha256?.toLowerCase(),
      fileSha256: expected.fileSha256?.toLowerCase(),
    };
    this.options = options;
    this.plainLimit = Math.min(expected.fileSize, options.maxPlainBytes ?? Number.POSITIVE_INFINITY);
    if (expected.fileSize > this.plainLimit) {
      this.failure = overflow("maxPlainBytes", this.plainLimit, "plain");
    }
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
    // Hand the plain side its work first, so it inflates while this thread hashes.
    const roomLeft = this.plainSide().write(chunk);
    this.gzipHash.update(chunk);
    this.gzipSha256.update(chunk);
    this.push(chunk);
    if (roomLeft) callback();
    else this.pendingWrite = callback;
  }

  override _flush(callback: TransformCallback): void {
    // The GZip figures are known now: refuse at once rather than after inflating the rest.
    const gzipMd5 = this.gzipHash.digest("hex");
    this.gzipSha256Hex = this.gzipSha256.digest("hex");
    const wantSha256 = this.expected.gzipSha256;
    const fault =
      this.failure ??
      (this.gzipBytes !== this.expected.gzipSize
        ? mismatch("gzipSize", this.expected.gzipSize, this.gzipBytes)
        : gzipMd5 !== this.expected.gzipMd5
          ? mismatch("gzipMd5", this.expected.gzipMd5, gzipMd5)
          : wantSha256 !== undefined && this.gzipSha256Hex !== wantSha256
            ? mismatch("gzipSha256", wantSha256, this.gzipSha256Hex)
            : undefined);
    if (fault) {
      callback(fault);
      return;
    }
    this.pendingFlush = callback;
    this.plainSide().end();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const reason =
      error ??
      this.failure ??
      new IntegrityError("history file stream closed before it was verified", { figure: "incomplete" });
    this.result.reject(reason);
    this.plain?.close();
    callback(error);
  }

  private plainSide(): PlainSide {
    this.plain ??= this.startPlainSide();
    return this.plain;
  }

  private startPlainSide(): PlainSide {
    const o = this.options;
    const events: PlainSideEvents = {
      room: () => {
        const callback = this.pendingWrite;
        this.pendingWrite = undefined;
        callback?.();
      },
      done: (figures) => {
        this.plainFigures = figures;
        this.complete();
      },
      failed: (kind, error) => this.fail(this.plainFailure(kind, error)),
    };
    const shared = {
      backlogBytes: o.inflateBacklogBytes ?? VERIFIER_DEFAULTS.inflateBacklogBytes,
      sliceBytes: o.hashSliceBytes ?? VERIFIER_DEFAULTS.hashSliceBytes,
      limit: this.plainLimit,
    };
    const workerFrom = o.inflateWorkerFromBytes ?? VERIFIER_DEFAULTS.inflateWorkerFromBytes;
    const onWorker =
      this.expected.fileSize >= workerFrom
        ? startWorkerPlainSide(
            {
              ...shared,
              chunkSize: o.inflateChunkSize ?? WORKER_DEFAULTS.inflateChunkSize,
              readAheadBytes: o.plainReadAheadBytes ?? WORKER_DEFAULTS.plainReadAheadBytes,
              stagingBytes: WORKER_DEFAULTS.stagingBytes,
            },
            events,
          )
        : undefined;
    return (
      onWorker ??
      new InThreadPlainSide(
        {
          ...shared,
          chunkSize: o.inflateChunkSize ?? VERIFIER_DEFAULTS.inflateChunkSize,
          readAheadBytes: o.plainReadAheadBytes ?? VERIFIER_DEFAULTS.plainReadAheadBytes,
        },
        events,
      )
    );
  }

  private plainFailure(kind: PlainFailure, error: Error): IntegrityError {
    switch (kind) {
      case "gzip":
        return new IntegrityError(`history file is not valid gzip: ${error.message}`, {
          figure: "gzip",
          cause: error,
        });
      case "overflow":
        return overflow(
          this.plainLimit < this.expected.fileSize ? "maxPlainBytes" : "fileSize",
          this.plainLimit,
          "plain",
        );
      case "thread":
        return new IntegrityError(
          `history file could not be verified: gunzip thread failed: ${error.message}`,
          {
            figure: "incomplete",
            cause: error,
          },
        );
    }
  }

  /** The plain side is done and the GZip bytes are over: compare the plain figures, end (or error). */
  private complete(): void {
    const callback = this.pendingFlush;
    const plain = this.plainFigures;
    if (!callback || !plain || this.failure) return;
    this.pendingFlush = undefined;
    const wantSha256 = this.expected.fileSha256;
    const fault =
      plain.size !== this.expected.fileSize
        ? mismatch("fileSize", this.expected.fileSize, plain.size)
        : plain.md5 !== this.expected.fileMd5
          ? mismatch("fileMd5", this.expected.fileMd5, plain.md5)
          : wantSha256 !== undefined && plain.sha256 !== wantSha256
            ? mismatch("fileSha256", wantSha256, plain.sha256)
            : undefined;
    if (fault) {
      callback(fault);
      return;
    }
    // A framing problem is noted, not fatal (see VerifiedFigures.framingProblem).
    const { gzipSize, gzipMd5, fileSize, fileMd5 } = this.expected;
    this.result.resolve({
      gzipSize,
      gzipMd5,
      fileSize,
      fileMd5,
      gzipSha256: this.gzipSha256Hex,
      fileSha256: plain.sha256,
      messageCount: plain.messageCount,
      ...(plain.framingProblem === undefined ? {} : { framingProblem: plain.framingProblem }),
    });
    callback();
  }

  /** A fault found outside a write or flush callback: error the stream now. */
  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.destroy(error);
  }
}
