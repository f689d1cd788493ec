import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import { IntegrityError } from "../errors.ts";
import { chunks, collector, file, historyText, sha256sOf } from "./test-support.ts";
import { createVerifier, type ExpectedFigures, type VerifierOptions } from "./verifier.ts";

/** Runs `pipeline(source, verifier, sink)`; returns what the sink got and the figures, or the error. */
async function verify(gzip: Buffer, expected: ExpectedFigures, chunkSize: number, options: VerifierOptions) {
  const { stream, figures } = createVerifier(expected, options);
  const { sink, bytes } = collector();
  try {
    await pipeline(Readable.from(chunks(gzip, chunkSize)), stream, sink);
  } catch (error) {
    await expect(figures).rejects.toBe(error);
    return { error: error as IntegrityError, passed: bytes() };
  }
  return { figures: await figures, passed: bytes() };
}

function figureOf(error: unknown): unknown {
  expect(error).toBeInstanceOf(IntegrityError);
  return (error as IntegrityError).details?.figure;
}

describe("createVerifier on the gunzip thread, with files of many staging buffers", () => {
  // ~6 MiB plain: many zlib buffers on the thread, hashed in place and recycled (a buffer recycled too
  // early, while zlib still fills it or before it is hashed, changes the MD5).
  const big = file(historyText(40_000));
  const thread: VerifierOptions = { inflateWorkerFromBytes: 0 };
  it("gives the exact figures for zlib chunks that are pooled (2 KiB), default and 1 MiB, any input chunking", async () => {
    expect(big.plain.length).toBeGreaterThan(5 * 1024 * 1024);
    for (const [inflateChunkSize, chunkSize] of [
      [2048, 64 * 1024],
      [undefined, 1000],
      [1024 * 1024, 1024 * 1024],
    ] as const) {
      const options = inflateChunkSize === undefined ? thread : { ...thread, inflateChunkSize };
      const result = await verify(big.gzip, big.expected, chunkSize, options);
      expect(result.figures, `zlib chunk ${inflateChunkSize}`).toEqual({
        ...big.expected,
        ...sha256sOf(big.gzip, big.plain),
        messageCount: 40_000,
      });
      expect(result.passed.equals(big.gzip)).toBe(true);
    }
  });

  it("names fileMd5 and fileSize on the thread as on this one", async () => {
    const md5 = await verify(big.gzip, { ...big.expected, fileMd5: "0".repeat(32) }, 64 * 1024, thread);
    const size = await verify(big.gzip, { ...big.expected, fileSize: 1024 * 1024 }, 64 * 1024, thread);

    expect(figureOf(md5.error)).toBe("fileMd5");
    expect(figureOf(size.error)).toBe("fileSize");
  });
});
