import { createHash, type Hash } from "node:crypto";
import { type Readable, Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { IntegrityError } from "../errors.ts";

export interface Digest {
  size: number;
  sha256: string;
}

/**
 * Passes bytes through unchanged, counting and SHA-256 hashing them. With an expected length (the
 * Content-Length), more bytes than that fail at once and fewer fail at the end, before the stream
 * ends: a store consuming it then discards what it began (IntegrityError, retryable). `digest` is
 * set once every byte passed and the length matched.
 */
export class DigestStream extends Transform {
  readonly #hash: Hash = createHash("sha256");
  readonly #expected: number | undefined;
  readonly #label: string;
  #size = 0;
  digest: Digest | undefined;

  constructor(expectedLength: number | undefined, label: string) {
    super();
    this.#expected = expectedLength;
    this.#label = label;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#size += chunk.length;
    if (this.#expected !== undefined && this.#size > this.#expected) {
      callback(this.#mismatch());
      return;
    }
    this.#hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.#expected !== undefined && this.#size !== this.#expected) {
      callback(this.#mismatch());
      return;
    }
    this.digest = { size: this.#size, sha256: this.#hash.digest("hex") };
    callback();
  }

  #mismatch(): IntegrityError {
    return new IntegrityError(
      `${this.#label}: ${this.#size} bytes arrived${this.#size > (this.#expected ?? 0) ? " so far" : ""}, Content-Length said ${this.#expected}`,
      { expected: this.#expected, received: this.#size },
    );
  }
}

/** Size and SHA-256 of a whole stream (e.g. an object read back from the store), without keeping it. */
export async function digestOf(stream: Readable): Promise<Digest> {
  const hash = createHash("sha256");
  let size = 0;
  await pipeline(stream, async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) {
      size += chunk.length;
      hash.update(chunk);
    }
  });
  return { size, sha256: hash.digest("hex") };
}
