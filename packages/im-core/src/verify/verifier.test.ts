import { createHash } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { gzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { IntegrityError } from "../errors.ts";
import {
  chunks,
  collector,
  figuresOf,
  file,
  HEADER,
  historyText,
  message,
  sha256sOf,
} from "./test-support.ts";
import { createVerifier, type ExpectedFigures, type VerifierOptions } from "./verifier.ts";

/** Where the verifier inflates and hashes the plain bytes: each suite below runs in both modes. */
const MODES: [string, VerifierOptions][] = [
  ["on this thread", { inflateWorkerFromBytes: Number.POSITIVE_INFINITY }],
  ["on the gunzip thread", { inflateWorkerFromBytes: 0 }],
];

/** Runs `pipeline(source, verifier, sink)`; returns what the sink got and the figures, or the error. */
async function verify(
  gzip: Buffer,
  expected: ExpectedFigures,
  chunkSize = 4096,
  options: VerifierOptions = {},
) {
  const { stream, figures } = createVerifier(expected, { ...mode, ...options });
  const { sink, bytes } = collector();
  try {
    await pipeline(Readable.from(chunks(gzip, chunkSize)), stream, sink);
  } catch (error) {
    await expect(figures).rejects.toBe(error);
    return { error: error as IntegrityError, passed: bytes() };
  }
  return { figures: await figures, passed: bytes() };
}

let mode: VerifierOptions = {};

function figureOf(error: unknown): unknown {
  expect(error).toBeInstanceOf(IntegrityError);
  return (error as IntegrityError).details?.figure;
}

for (const [where, options] of MODES) {
  describe(`createVerifier, inflating and hashing ${where}`, () => {
    beforeAll(() => {
      mode = options;
    });

    describe("createVerifier on good files", () => {
      it("reports the exact figures and message count and passes the GZip bytes on byte for byte", async () => {
        const { gzip, plain, expected } = file(historyText(500));

        const result = await verify(gzip, expected);

        expect(result.figures).toEqual({ ...expected, ...sha256sOf(gzip, plain), messageCount: 500 });
        expect(result.passed.equals(gzip)).toBe(true);
        expect(plain.length).toBeGreaterThan(gzip.length);
      });

      it("counts zero messages in an empty hour (header line then ]})", async () => {
        const { gzip, expected } = file(`${HEADER}\n]}\n`);

        const result = await verify(gzip, expected);

        expect(result.figures?.messageCount).toBe(0);
      });

      it("counts one message when the only message line has no comma", async () => {
        const { gzip, expected } = file(historyText(1));

        const result = await verify(gzip, expected);

        expect(result.figures?.messageCount).toBe(1);
      });

      it("accepts Tencent's sample layout: blank after the last message, no newline after ]}", async () => {
        const text = `${HEADER}\n${message(1)},\n${message(2)} \n]}`;
        const { gzip, expected } = file(text);

        const result = await verify(gzip, expected);

        expect(result.figures?.messageCount).toBe(2);
      });

      it("accepts upper-case expected MD5s", async () => {
        const { gzip, expected } = file(historyText(3));

        const result = await verify(gzip, {
          ...expected,
          gzipMd5: expected.gzipMd5.toUpperCase(),
          fileMd5: expected.fileMd5.toUpperCase(),
        });

        expect(result.figures?.gzipMd5).toBe(expected.gzipMd5);
      });

      it("verifies a gzip file of several concatenated members as one plain file", async () => {
        const text = historyText(300);
        const cut = text.indexOf("\n", text.length / 2) + 1;
        const plain = Buffer.from(text);
        const gzip = Buffer.concat([gzipSync(plain.subarray(0, cut)), gzipSync(plain.subarray(cut))]);

        const result = await verify(gzip, figuresOf(gzip, plain));

        expect(result.figures).toEqual({
          ...figuresOf(gzip, plain),
          ...sha256sOf(gzip, plain),
          messageCount: 300,
        });
        expect(result.passed.equals(gzip)).toBe(true);
      });

      it("gives the same figures for GZip chunks of any size, down to 1 byte", async () => {
        const { gzip, plain, expected } = file(historyText(40));

        for (const size of [1, 2, 3, 7, 64, 1000, gzip.length]) {
          const result = await verify(gzip, expected, size);
          expect(result.figures, `chunk size ${size}`).toEqual({
            ...expected,
            ...sha256sOf(gzip, plain),
            messageCount: 40,
          });
          expect(result.passed.equals(gzip), `chunk size ${size}`).toBe(true);
        }
      });

      it("gives the same figures when the plain side arrives in tiny pieces (zlib chunkSize 64)", async () => {
        const { gzip, expected } = file(historyText(200));

        const result = await verify(gzip, expected, 4096, { inflateChunkSize: 64 });

        expect(result.figures?.messageCount).toBe(200);
      });

      it("gives the same figures when plain chunks are hashed in slices smaller than a chunk", async () => {
        const { gzip, plain, expected } = file(historyText(200));

        const result = await verify(gzip, expected, 4096, {
          inflateChunkSize: 16 * 1024,
          hashSliceBytes: 1000,
          plainReadAheadBytes: 1,
        });

        expect(result.figures).toEqual({ ...expected, ...sha256sOf(gzip, plain), messageCount: 200 });
      });
    });

    describe("createVerifier refuses bad files", () => {
      const good = file(historyText(300));

      it("names gzipMd5 when the GZip bytes hash differently", async () => {
        const result = await verify(good.gzip, { ...good.expected, gzipMd5: "0".repeat(32) });

        expect(figureOf(result.error)).toBe("gzipMd5");
        expect(result.error?.details).toMatchObject({
          expected: "0".repeat(32),
          actual: good.expected.gzipMd5,
        });
      });

      it("names fileMd5 when the plain bytes hash differently", async () => {
        const result = await verify(good.gzip, { ...good.expected, fileMd5: "f".repeat(32) });

        expect(figureOf(result.error)).toBe("fileMd5");
      });

      it("names gzipSize when fewer GZip bytes arrive than advertised", async () => {
        const result = await verify(good.gzip, { ...good.expected, gzipSize: good.gzip.length + 1 });

        expect(figureOf(result.error)).toBe("gzipSize");
        expect(result.error?.details).toMatchObject({
          expected: good.gzip.length + 1,
          actual: good.gzip.length,
        });
      });

      it("names gzipSize as soon as more GZip bytes arrive than advertised, without reading the rest", async () => {
        const { stream, figures } = createVerifier({ ...good.expected, gzipSize: 1000 }, mode);
        const pieces = chunks(good.gzip, 100);
        let pulled = 0;
        const source = Readable.from(
          (function* () {
            for (const piece of pieces) {
              pulled++;
              yield piece;
            }
          })(),
        );

        const error = await pipeline(source, stream, collector().sink).catch((e: unknown) => e);

        expect(figureOf(error)).toBe("gzipSize");
        await expect(figures).rejects.toBe(error);
        expect(pulled).toBeLessThan(pieces.length / 2);
      });

      it("names fileSize when the plain bytes are fewer than advertised", async () => {
        const result = await verify(good.gzip, { ...good.expected, fileSize: good.plain.length + 10 });

        expect(figureOf(result.error)).toBe("fileSize");
      });

      it("names fileSize as soon as the plain bytes exceed what was advertised", async () => {
        const result = await verify(good.gzip, { ...good.expected, fileSize: 100 });

        expect(figureOf(result.error)).toBe("fileSize");
        // Refused at the 101st plain byte (a gzip bomb stops there), not after inflating it all.
        expect(result.error?.details).toMatchObject({ expected: 100, actual: ">100" });
      });

      it("names maxPlainBytes when the advertised plain size exceeds the configured cap", async () => {
        const result = await verify(good.gzip, good.expected, 4096, { maxPlainBytes: 1024 });

        expect(figureOf(result.error)).toBe("maxPlainBytes");
      });

      it("names gzipSize for a download cut short", async () => {
        const truncated = good.gzip.subarray(0, good.gzip.length - 100);

        const result = await verify(truncated, good.expected);

        expect(figureOf(result.error)).toBe("gzipSize");
      });

      it("names gzip for a truncated file whose GZip figures were advertised as served", async () => {
        const truncated = good.gzip.subarray(0, good.gzip.length - 100);

        const result = await verify(truncated, { ...good.expected, ...figuresOf(truncated, good.plain) });

        expect(figureOf(result.error)).toBe("gzip");
        expect(result.error?.message).toMatch(/not valid gzip/);
      });

      it("refuses a corrupt byte in the middle of the deflate stream", async () => {
        const corrupt = Buffer.from(good.gzip);
        const middle = corrupt.length >> 1;
        corrupt[middle] = corrupt[middle]! ^ 0xff;

        const result = await verify(corrupt, { ...good.expected, ...figuresOf(corrupt, good.plain) });

        // zlib objects if the bytes no longer decode; if they decode to other bytes, Node's Gunzip (on
        // this thread) refuses them by their CRC-32 and the gunzip thread (no CRC) by their MD5 or size.
        expect(["gzip", "fileMd5", "fileSize"]).toContain(figureOf(result.error));
        expect(result.figures).toBeUndefined();
      });

      it("names gzipMd5 for a corrupt byte when the advertised figures are the original's", async () => {
        const corrupt = Buffer.from(good.gzip);
        // Inside the trailer's CRC: zlib would object too, but the GZip MD5 is checked first.
        const inCrc = corrupt.length - 6;
        corrupt[inCrc] = corrupt[inCrc]! ^ 0x01;

        const result = await verify(corrupt, good.expected);

        expect(figureOf(result.error)).toBe("gzipMd5");
      });

      it("names gzip for bytes that are not gzip at all", async () => {
        const notGzip = Buffer.from(historyText(3));

        const result = await verify(notGzip, figuresOf(notGzip, notGzip));

        expect(figureOf(result.error)).toBe("gzip");
      });

      const framingCases: [string, string, RegExp][] = [
        ["the closing ]} is missing", `${HEADER}\n${message(1)}\n`, /line 3: file ended before the closing/],
        ["garbage follows ]}", `${HEADER}\n${message(1)}\n]}\ntrailing`, /line 4: data after the closing/],
        ["the last message keeps its comma", `${HEADER}\n${message(1)},\n]}\n`, /ends with a comma/],
        [
          "a comma is missing between messages",
          `${HEADER}\n${message(1)}\n${message(2)}\n]}\n`,
          /no trailing comma/,
        ],
        [
          "the header does not open MsgList",
          `{"SdkAppId":1,"MsgList":[]}\n`,
          /line 1: header line does not end/,
        ],
        ["the header is not JSON", `{"SdkAppId":,"MsgList":[\n]}\n`, /line 1: header line is not JSON/],
        [
          "a message line is cut",
          `${HEADER}\n${message(1).slice(0, 40)}\n]}\n`,
          /line 2: message line does not end/,
        ],
        [
          "an empty line sits among messages",
          `${HEADER}\n${message(1)},\n\n${message(2)}\n]}\n`,
          /line 3: empty line/,
        ],
        ["the file is empty", "", /line 1: file ended before a header line/],
      ];
      for (const [what, text, problem] of framingCases) {
        it(`keeps a file whose four figures match but notes the framing problem when ${what}`, async () => {
          const { gzip, expected } = file(text);

          const result = await verify(gzip, expected);

          expect(result.error).toBeUndefined();
          expect(result.passed.equals(gzip)).toBe(true);
          expect(result.figures?.framingProblem).toMatch(problem);
        });

        it(`still refuses a mismatching file whose layout is also broken when ${what}`, async () => {
          const { gzip, expected } = file(text);

          const result = await verify(gzip, { ...expected, fileMd5: "0".repeat(32) });

          expect(figureOf(result.error)).toBe("fileMd5");
        });
      }

      it("makes pipeline(source, verifier, sink) reject before the sink is finished", async () => {
        const { stream } = createVerifier({ ...good.expected, fileMd5: "0".repeat(32) }, mode);
        const { sink } = collector();
        let finished = false;
        sink.on("finish", () => {
          finished = true;
        });

        await expect(pipeline(Readable.from(chunks(good.gzip, 512)), stream, sink)).rejects.toBeInstanceOf(
          IntegrityError,
        );
        expect(finished).toBe(false);
      });

      it("rejects its figures when the stream is destroyed before the end", async () => {
        const { stream, figures } = createVerifier(good.expected, mode);

        stream.write(good.gzip.subarray(0, 100));
        stream.destroy();

        await expect(figures).rejects.toMatchObject({ details: { figure: "incomplete" } });
      });
    });

    describe("createVerifier backpressure", () => {
      it("stops pulling GZip bytes while the downstream does not read", async () => {
        // Random bytes barely compress, so the GZip file is large; the sink never acknowledges a write.
        const plainText = `${HEADER}\n${Array.from({ length: 12000 }, (_, i) => `{"x":"${createHash("sha512").update(String(i)).digest("base64")}${"ab".repeat(i % 50)}"}`).join(",\n")}\n]}\n`;
        const { gzip, expected } = file(plainText);
        const { stream, figures } = createVerifier(expected, { ...mode, inflateBacklogBytes: 64 * 1024 });
        let pulled = 0;
        const source = new Readable({
          read() {
            const piece = gzip.subarray(pulled, pulled + 16 * 1024);
            pulled += piece.length;
            this.push(piece.length > 0 ? piece : null);
          },
        });
        const stuck = new Writable({ highWaterMark: 16 * 1024, write() {} });

        const done = pipeline(source, stream, stuck).catch((e: unknown) => e);
        // Let the pipeline run until it stops pulling (it would pull everything if backpressure failed).
        for (let last = -1, steady = 0; steady < 5; steady = pulled === last ? steady + 1 : 0) {
          last = pulled;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }

        expect(gzip.length).toBeGreaterThan(800 * 1024);
        expect(pulled).toBeLessThan(400 * 1024);
        stuck.destroy();
        await done;
        await expect(figures).rejects.toBeDefined();
      });
    });
  });
}
