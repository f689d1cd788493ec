import type { PlainFigures } from "./plain-hasher.ts";

/**
 * Where the verifier sends the GZip bytes to be inflated, and the plain bytes counted, hashed and
 * framed: on this thread (InThreadPlainSide) or on a worker thread (WorkerPlainSide).
 */
export interface PlainSide {
  /** The next GZip bytes (the side copies them or only reads them); false: hold further writes until `room`. */
  write(gzip: Buffer): boolean;
  /** No more GZip bytes: `done` follows the last plain byte. */
  end(): void;
  /** Stops at once (the stream was destroyed or failed): nothing more is reported. Safe to call twice. */
  close(): void;
}

/** Why a plain side failed. */
export type PlainFailure =
  /** The bytes are not valid gzip (the error's `code` is zlib's, e.g. Z_DATA_ERROR). */
  | "gzip"
  /** They inflate to more than the plain limit; inflating stopped there. */
  | "overflow"
  /** The worker thread itself failed. */
  | "thread";

/** What a plain side reports, on the verifier's thread. */
export interface PlainSideEvents {
  /** `write` returned false earlier and may be called again. */
  room(): void;
  /** Every plain byte is inflated, hashed and framed. */
  done(figures: PlainFigures): void;
  /** Called at most once, and then neither `done` nor `room` is. */
  failed(kind: PlainFailure, error: Error): void;
}

/** The settings both sides share (each side has its own defaults for the rest). */
export interface PlainSideOptions {
  /** zlib's output chunk size. */
  chunkSize: number;
  /** GZip bytes handed over but not yet inflated at which `write` returns false. */
  backlogBytes: number;
  /** Plain bytes that may wait to be hashed before inflating pauses. */
  readAheadBytes: number;
  /** Plain bytes hashed between turns of the event loop (see PlainHasher). */
  sliceBytes: number;
  /** More plain bytes than this fails with "overflow". */
  limit: number;
}
