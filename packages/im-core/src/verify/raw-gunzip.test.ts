import * as zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { RawGunzip, rawGunzipChunks } from "./raw-gunzip.ts";

type Outcome = { ok: true; plain: Buffer } | { ok: false; code: string | undefined };

/** Feeds `gzip` in pieces of `size` bytes, each piece's buffer reused (zeroed) once `done` is called. */
function gunzipRaw(gzip: Buffer, size = gzip.length, chunkSize = 1024): Promise<Outcome> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    const gunzip = new RawGunzip(chunkSize, {
      data: (chunk) => parts.push(Buffer.from(chunk)),
      end: () => resolve({ ok: true, plain: Buffer.concat(parts) }),
      error: (error) => resolve({ ok: false, code: error.code }),
    });
    let at = 0;
    const next = (): void => {
      if (at >= gzip.length) {
        gunzip.end();
        return;
      }
      const piece = Buffer.from(gzip.subarray(at, at + size));
      at += size;
      gunzip.write(piece, () => {
        piece.fill(0); // the caller reuses its buffer: nothing may still refer to these bytes
        queueMicrotask(next);
      });
    };
    next();
  });
}

/** What Node's own gunzip makes of the same bytes. */
function gunzipNode(gzip: Buffer): Outcome {
  try {
    return { ok: true, plain: zlib.gunzipSync(gzip) };
  } catch (error) {
    return { ok: false, code: (error as { code?: string }).code };
  }
}

function text(lines: number, seed = 0): Buffer {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) out.push(`{"MsgSeq":${seed + i},"Text":"line ${(seed + i) * 7919}"},`);
  return Buffer.from(out.join("\n"));
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

/** A member with every optional header field (FEXTRA, FNAME, FCOMMENT and a valid FHCRC). */
function memberWithAllHeaderFields(plain: Buffer): Buffer {
  const fixed = Buffer.from([0x1f, 0x8b, 8, 0x02 | 0x04 | 0x08 | 0x10, 1, 2, 3, 4, 0, 3]);
  const extra = Buffer.concat([Buffer.from([4, 0]), Buffer.from("ab\x00\x01")]);
  const header = Buffer.concat([fixed, extra, Buffer.from("hour.json\0"), Buffer.from("a comment\0")]);
  const hcrc = Buffer.alloc(2);
  hcrc.writeUInt16LE(zlib.crc32(header) & 0xffff);
  const trailer = Buffer.concat([u32(zlib.crc32(plain)), u32(plain.length)]);
  return Buffer.concat([header, hcrc, zlib.deflateRawSync(plain), trailer]);
}

const one = zlib.gzipSync(text(400));
const two = Buffer.concat([zlib.gzipSync(text(200)), zlib.gzipSync(text(300, 200))]);
const CASES: [string, Buffer][] = [
  ["one member", one],
  ["two members", two],
  ["a member with FEXTRA, FNAME, FCOMMENT and FHCRC", memberWithAllHeaderFields(text(100))],
  ["an empty member", zlib.gzipSync(Buffer.alloc(0))],
  ["zero padding after the last member", Buffer.concat([one, Buffer.alloc(16)])],
  ["zero padding, then other bytes", Buffer.concat([one, Buffer.from([0, 7, 7])])],
  ["bytes after a member that are not gzip", Buffer.concat([one, Buffer.from("junk")])],
  ["no bytes at all", Buffer.alloc(0)],
  ["bytes that are not gzip", text(3)],
  ["a bad compression method", Buffer.concat([one.subarray(0, 2), Buffer.from([7]), one.subarray(3)])],
  ["reserved header flags", Buffer.concat([one.subarray(0, 3), Buffer.from([0x20]), one.subarray(4)])],
  [
    "a trailer whose size is wrong",
    Buffer.concat([one.subarray(0, one.length - 4), u32(one.readUInt32LE(one.length - 4) + 1)]),
  ],
];

describe("RawGunzip", () => {
  for (const [what, gzip] of CASES) {
    it(`ends as Node's gunzip does for ${what}, in pieces of any size`, async () => {
      const node = gunzipNode(gzip);

      for (const size of [1, 2, 3, 7, 64, 1000, Math.max(1, gzip.length)]) {
        expect(await gunzipRaw(gzip, size), `pieces of ${size}`).toEqual(node);
      }
    });
  }

  it("ends as Node's gunzip does wherever two members are cut short", async () => {
    const small = Buffer.concat([zlib.gzipSync(text(8)), zlib.gzipSync(text(12, 8))]);
    for (let cut = 0; cut < small.length; cut++) {
      const gzip = small.subarray(0, cut);

      // Cut between the members, both succeed with the first one's bytes; anywhere else, both refuse.
      expect(await gunzipRaw(gzip, 100), `cut at ${cut}`).toEqual(gunzipNode(gzip));
    }
  });

  it("skips the CRC-32: the verifier's MD5 of the plain bytes is the check that counts", async () => {
    const badCrc = Buffer.from(one);
    badCrc.writeUInt32LE(badCrc.readUInt32LE(one.length - 8) ^ 1, one.length - 8);

    expect(gunzipNode(badCrc)).toEqual({ ok: false, code: "Z_DATA_ERROR" });
    expect(await gunzipRaw(badCrc)).toEqual({ ok: true, plain: text(400) });
  });

  it("emits no plain bytes while paused, and all of them once resumed", async () => {
    const plain = text(20_000);
    const parts: Buffer[] = [];
    let ended = false;
    const gunzip = new RawGunzip(4096, {
      data: (chunk) => {
        parts.push(Buffer.from(chunk));
        gunzip.pause();
      },
      end: () => {
        ended = true;
      },
      error: (error) => {
        throw error;
      },
    });

    gunzip.write(zlib.gzipSync(plain), () => {});
    gunzip.end();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const whilePaused = parts.length;
    while (!ended) {
      gunzip.resume();
      await new Promise((resolve) => setImmediate(resolve));
    }

    expect(whilePaused).toBe(1);
    expect(Buffer.concat(parts).equals(plain)).toBe(true);
  });

  it("calls nothing more once destroyed, and hands back what it still held", async () => {
    const calls: string[] = [];
    const gunzip = new RawGunzip(1024, {
      data: () => calls.push("data"),
      end: () => calls.push("end"),
      error: () => calls.push("error"),
    });
    const done: number[] = [];

    gunzip.write(one.subarray(0, 5), () => done.push(1)); // an incomplete header: held
    gunzip.destroy();
    gunzip.write(one.subarray(5), () => done.push(2));
    gunzip.end();
    await new Promise((resolve) => setTimeout(resolve, 20));

    expect(done).toEqual([1, 2]);
    expect(calls).toEqual([]);
  });
});

/** `gzip` as an async iterable of pieces of `size` bytes; `read` counts the pieces taken. */
function pieces(gzip: Buffer, size: number, read = { pieces: 0 }): AsyncIterable<Uint8Array> {
  return (async function* () {
    for (let at = 0; at < gzip.length; at += size) {
      read.pieces++;
      yield Buffer.from(gzip.subarray(at, at + size));
    }
  })();
}

/** What rawGunzipChunks makes of `source`, taken slowly (a macrotask a chunk), or its error's code. */
async function gunzipChunks(source: AsyncIterable<Uint8Array>, chunkSize: number): Promise<Outcome> {
  const parts: Buffer[] = [];
  try {
    for await (const chunk of rawGunzipChunks(source, chunkSize)) {
      expect(chunk.length).toBeLessThanOrEqual(chunkSize);
      parts.push(Buffer.from(chunk));
      await new Promise((resolve) => setImmediate(resolve));
    }
  } catch (error) {
    return { ok: false, code: (error as { code?: string }).code };
  }
  return { ok: true, plain: Buffer.concat(parts) };
}

describe("rawGunzipChunks", () => {
  for (const [what, gzip] of CASES) {
    it(`ends as Node's gunzip does for ${what}`, async () => {
      expect(await gunzipChunks(pieces(gzip, 333), 1024)).toEqual(gunzipNode(gzip));
    });
  }

  it("ends as Node's gunzip does for a file cut short", async () => {
    const gzip = two.subarray(0, two.length - 100);

    expect(await gunzipChunks(pieces(gzip, 1000), 4096)).toEqual({ ok: false, code: "Z_BUF_ERROR" });
    expect(gunzipNode(gzip)).toEqual({ ok: false, code: "Z_BUF_ERROR" });
  });

  it("throws the source's own error", async () => {
    const failing = (async function* () {
      yield one.subarray(0, 100);
      throw new Error("the store failed");
    })();

    await expect(
      (async () => {
        for await (const _ of rawGunzipChunks(failing, 1024));
      })(),
    ).rejects.toThrow("the store failed");
  });

  it("reads a few chunks ahead of a consumer that waits, and no further once it stops", async () => {
    const plain = text(50_000);
    const gzip = zlib.gzipSync(plain, { level: 0 }); // stored: as many GZip bytes as plain ones
    const read = { pieces: 0 };
    const chunks = rawGunzipChunks(pieces(gzip, 4096, read), 4096);
    const parts: Buffer[] = [];
    const take = async () => {
      const next = await chunks.next();
      if (!next.done) parts.push(Buffer.from(next.value));
      return !next.done;
    };

    await take();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const readWhileWaiting = read.pieces;
    for (let i = 0; i < 100; i++) await take();
    await chunks.return();
    await new Promise((resolve) => setTimeout(resolve, 50));

    expect(gzip.length / 4096).toBeGreaterThan(300);
    expect(readWhileWaiting).toBeLessThan(40);
    expect(read.pieces).toBeLessThan(160);
    expect(Buffer.concat(parts).equals(plain.subarray(0, Buffer.concat(parts).length))).toBe(true);
  });
});
