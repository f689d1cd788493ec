import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import { IntegrityError } from "../errors.ts";
import { chunks, collector, file, historyText, sha256 } from "./test-support.ts";
import { createVerifier, type ExpectedFigures, type VerifierOptions } from "./verifier.ts";

/** The SHA-256s the verifier computes in its one pass (what a manifest records), on both plain sides. */

const MODES: [string, VerifierOptions][] = [
  ["on this thread", { inflateWorkerFromBytes: Number.POSITIVE_INFINITY }],
  ["on the gunzip thread", { inflateWorkerFromBytes: 0 }],
];

/** "abc", gzipped by zlib at level 6 (no name, no time; OS byte 3): a fixed input with known digests. */
const ABC_GZIP = Buffer.from("1f8b08000000000000034b4c4a0600c241243503000000", "hex");
const ABC: ExpectedFigures = {
  gzipSize: 23,
  gzipMd5: "3325b2de7b1e4ae33f7011ce438e8355",
  fileSize: 3,
  fileMd5: "900150983cd24fb0d6963f7d28e17f72", // RFC 1321's test vector for "abc"
};
/** SHA-256 of "abc": FIPS 180-2's first example. */
const ABC_SHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
/** SHA-256 of the 23 bytes above (sha256sum). */
const ABC_GZIP_SHA256 = "a058a4f3405f909f3a49df0cb75d96198d371ae7913e5ef6b8114a382746ee5a";

async function run(gzip: Buffer, expected: ExpectedFigures, options: VerifierOptions, chunkSize = 7) {
  const { stream, figures } = createVerifier(expected, options);
  const { sink } = collector();
  try {
    await pipeline(Readable.from(chunks(gzip, chunkSize)), stream, sink);
  } catch (error) {
    return { error };
  }
  return { figures: await figures };
}

function figureOf(error: unknown): unknown {
  expect(error).toBeInstanceOf(IntegrityError);
  return (error as IntegrityError).details?.figure;
}

for (const [where, options] of MODES) {
  describe(`createVerifier's SHA-256s, inflating ${where}`, () => {
    it("gives the known SHA-256s of a known input, alongside its MD5s", async () => {
      const result = await run(ABC_GZIP, ABC, options);

      expect(result.figures).toMatchObject({
        ...ABC,
        gzipSha256: ABC_GZIP_SHA256,
        fileSha256: ABC_SHA256,
      });
    });

    it("gives the SHA-256s of every byte of a larger file, whatever the chunk size", async () => {
      const { gzip, plain, expected } = file(historyText(3000));

      for (const size of [1000, 64 * 1024]) {
        const result = await run(gzip, expected, options, size);
        expect(result.figures?.gzipSha256, `chunks of ${size}`).toBe(sha256(gzip));
        expect(result.figures?.fileSha256, `chunks of ${size}`).toBe(sha256(plain));
      }
    });

    it("checks the SHA-256s a manifest records, and passes when they match", async () => {
      const result = await run(
        ABC_GZIP,
        { ...ABC, gzipSha256: ABC_GZIP_SHA256, fileSha256: ABC_SHA256 },
        options,
      );

      expect(result.error).toBeUndefined();
    });

    it("refuses a file whose GZip SHA-256 differs from the recorded one (gzipSha256)", async () => {
      const result = await run(ABC_GZIP, { ...ABC, gzipSha256: ABC_SHA256 }, options);

      expect(figureOf(result.error)).toBe("gzipSha256");
    });

    it("refuses a file whose plain SHA-256 differs from the recorded one (fileSha256)", async () => {
      const result = await run(ABC_GZIP, { ...ABC, fileSha256: ABC_GZIP_SHA256 }, options);

      expect(figureOf(result.error)).toBe("fileSha256");
    });
  });
}
