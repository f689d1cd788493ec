import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { type PlainFigures, PlainHasher, type PlainHasherOptions } from "./plain-hasher.ts";
import { chunks, historyText } from "./test-support.ts";

const turn = () => new Promise((resolve) => setImmediate(resolve));

/** A hasher whose events are recorded. */
function recorded(options: Partial<PlainHasherOptions> = {}) {
  const log = { room: 0, hashed: [] as Buffer[], overflow: 0, done: undefined as PlainFigures | undefined };
  const hasher = new PlainHasher(
    { sliceBytes: 1000, readAheadBytes: 1e9, limit: 1e9, ...options },
    {
      room: () => log.room++,
      hashed: (chunk) => log.hashed.push(chunk),
      overflow: () => log.overflow++,
      done: (figures) => {
        log.done = figures;
      },
    },
  );
  return { hasher, log };
}

async function untilDone(log: { done: PlainFigures | undefined }): Promise<PlainFigures> {
  for (let i = 0; i < 10_000 && log.done === undefined; i++) await turn();
  return log.done!;
}

describe("PlainHasher", () => {
  const plain = Buffer.from(historyText(120));

  it("gives the size, MD5 and framing of every byte pushed, whatever the slice and chunk sizes", async () => {
    for (const [sliceBytes, chunkBytes] of [
      [13, 997],
      [7, 64],
      [1000, 1000],
      [64 * 1024, 333],
    ] as const) {
      const { hasher, log } = recorded({ sliceBytes });

      for (const chunk of chunks(plain, chunkBytes)) hasher.push(chunk);
      hasher.end();

      expect(await untilDone(log), `slices of ${sliceBytes}`).toEqual({
        size: plain.length,
        md5: createHash("md5").update(plain).digest("hex"),
        sha256: createHash("sha256").update(plain).digest("hex"),
        messageCount: 120,
        framingProblem: undefined,
      });
    }
  });

  it("hashes one slice per turn of the event loop, and hands each chunk back once wholly hashed", async () => {
    const { hasher, log } = recorded({ sliceBytes: 1000 });
    const pieces = chunks(plain.subarray(0, 3000), 500);

    for (const piece of pieces) hasher.push(piece);
    const beforeATurn = log.hashed.length;
    await turn();
    const afterOne = log.hashed.length;
    await turn();

    expect(beforeATurn).toBe(0);
    expect(afterOne).toBe(2);
    expect(log.hashed).toEqual(pieces.slice(0, 4));
  });

  it("answers false at the read-ahead and calls room once the queue is below it again", async () => {
    const { hasher, log } = recorded({ sliceBytes: 1000, readAheadBytes: 2500 });
    const pieces = chunks(plain.subarray(0, 3000), 1000);

    const answers = pieces.map((piece) => hasher.push(piece));
    const roomBeforeATurn = log.room;
    await turn();

    expect(answers).toEqual([true, true, false]);
    expect(roomBeforeATurn).toBe(0);
    expect(log.room).toBe(1);
  });

  it("reports an overflow past the limit, and then hashes and reports nothing more", async () => {
    const { hasher, log } = recorded({ limit: 1500 });

    hasher.push(plain.subarray(0, 1000));
    hasher.push(plain.subarray(1000, 2000));
    hasher.push(plain.subarray(2000, 3000));
    hasher.end();
    for (let i = 0; i < 5; i++) await turn();

    expect(log.overflow).toBe(1);
    expect(log.hashed).toEqual([]);
    expect(log.done).toBeUndefined();
  });

  it("reports nothing once stopped", async () => {
    const { hasher, log } = recorded();

    hasher.push(plain.subarray(0, 1000));
    hasher.stop();
    hasher.end();
    for (let i = 0; i < 5; i++) await turn();

    expect(log).toEqual({ room: 0, hashed: [], overflow: 0, done: undefined });
  });
});
