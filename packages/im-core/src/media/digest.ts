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
    return lengthMismatch(this.#label, this.#size, this.#expected, this.#size > (this.#expected ?? 0));
  }
}

/** A body whose length is not what its Content-Length said (retryable: the next download may be whole). */
function lengthMismatch(
  label: string,
  received: number,
  expected: number | undefined,
  soFar: boolean,
): IntegrityError {
  return new IntegrityError(
    `${label}: ${received} bytes arrived${soFar ? " so far" : ""}, Content-Length said ${expected}`,
    { expected, received },
  );
}

/**
 * Size and SHA-256 of a whole body held in memory, checked against the Content-Length like
 * DigestStream (for a small download, answered whole instead of streamed).
 */
export function digestOfBytes(bytes: Buffer, expectedLength: number | undefined, label: string): Digest {
  if (expectedLength !== undefined && bytes.length !== expectedLength) {
    throw lengthMismatch(label, bytes.length, expectedLength, false);
  }
  return { size: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") };
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
