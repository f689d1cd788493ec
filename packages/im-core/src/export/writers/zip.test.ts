import { buffer } from "node:stream/consumers";
import { crc32 } from "node:zlib";
import { describe, expect, it } from "vitest";
import yauzl from "yauzl";
import { type ZipOptions, ZipWriter } from "./zip.ts";

interface ReadEntry {
  name: string;
  bytes: Buffer;
  method: number;
  compressedSize: number;
  crc32: number;
  needs: number;
  flags: number;
  zip64Extra: boolean;
  modified: Date;
}

/** Every entry of a zip as yauzl (the reader the system tests use) reads it. */
function unzip(zip: Buffer): Promise<ReadEntry[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true, decodeStrings: true }, (err, file) => {
      if (err || file === undefined) return reject(err);
      const entries: ReadEntry[] = [];
      file.on("entry", (entry: yauzl.Entry) => {
        file.openReadStream(entry, (e, stream) => {
          if (e || stream === undefined) return reject(e);
          buffer(stream).then((bytes) => {
            entries.push({
              name: entry.fileName,
              bytes,
              method: entry.compressionMethod,
              compressedSize: entry.compressedSize,
              crc32: entry.crc32,
              needs: entry.versionNeededToExtract,
              flags: entry.generalPurposeBitFlag,
              zip64Extra: entry.extraFields.some((f) => f.id === 0x0001),
              modified: entry.getLastModDate({ timezone: "UTC" }),
            });
            file.readEntry();
          }, reject);
        });
      });
      file.on("end", () => resolve(entries));
      file.on("error", reject);
      file.readEntry();
    });
  });
}

async function* chunks(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

const manifest = Buffer.from(
  JSON.stringify({ version: "2.0.0", events: Array(200).fill({ body: "hello" }) }),
);
const image = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31) % 251));
const modified = new Date("2025-01-02T00:00:00Z");

/** A zip of a buffer entry, a streamed entry in uneven chunks, an empty one and a non-ASCII name. */
async function sampleZip(options: Partial<ZipOptions> = {}): Promise<Buffer> {
  const out: Buffer[] = [];
  const zip = new ZipWriter(
    async (chunk) => {
      out.push(Buffer.from(chunk));
    },
    { modified, ...options },
  );
  await zip.addBuffer("rsmf_manifest.json", manifest, { deflate: true });
  await zip.addStream("00001-photo.png", image.length, chunks(image, 4_099));
  await zip.addBuffer("00002-empty.txt", Buffer.alloc(0));
  await zip.addStream("00003-语音.amr", 3, chunks(Buffer.from("abc"), 1));
  await zip.end();
  return Buffer.concat(out);
}

describe("ZipWriter (rsmf.zip)", () => {
  it("writes entries a zip reader gives back byte for byte, with their CRC-32, UTF-8 names and date", async () => {
    const zip = await sampleZip();

    const entries = await unzip(zip);

    expect(entries.map((e) => e.name)).toEqual([
      "rsmf_manifest.json",
      "00001-photo.png",
      "00002-empty.txt",
      "00003-语音.amr",
    ]);
    expect(entries.map((e) => e.bytes)).toEqual([manifest, image, Buffer.alloc(0), Buffer.from("abc")]);
    for (const e of entries) expect(e.crc32, e.name).toBe(crc32(e.bytes));
    expect(entries.every((e) => e.modified.getTime() === modified.getTime())).toBe(true);
    // Bit 11 (UTF-8 names) on all; bit 3 (data descriptor) exactly on the streamed ones.
    expect(entries.map((e) => e.flags)).toEqual([0x0800, 0x0808, 0x0800, 0x0808]);
    // The manifest deflated (method 8) to a fraction of its size; the rest stored (method 0).
    expect(entries.map((e) => e.method)).toEqual([8, 0, 0, 0]);
    expect(entries[0]!.compressedSize).toBeLessThan(manifest.length / 5);
    expect(entries.every((e) => e.needs === 20 && !e.zip64Extra)).toBe(true);
  });

  it("writes Zip64 records that a zip reader follows to the same entries", async () => {
    const zip = await sampleZip({ forceZip64: true });

    const entries = await unzip(zip);

    expect(entries.map((e) => e.bytes)).toEqual([manifest, image, Buffer.alloc(0), Buffer.from("abc")]);
    expect(entries.every((e) => e.needs === 45 && e.zip64Extra)).toBe(true);
    // The end of central directory record points to the Zip64 one (all its counts 0xFFFF...).
    expect(zip.readUInt32LE(zip.length - 22)).toBe(0x06054b50);
    expect(zip.readUInt16LE(zip.length - 22 + 10)).toBe(0xffff);
    expect(zip.readUInt32LE(zip.length - 22 - 20)).toBe(0x07064b50);
  });

  it("fails an entry whose stream gives fewer or more bytes than announced", async () => {
    const zip = new ZipWriter(async () => {}, { modified });

    await expect(zip.addStream("short.bin", 10, chunks(Buffer.alloc(9), 4))).rejects.toThrow(
      "zip entry short.bin: 9 bytes where 10 were announced",
    );
    await expect(zip.addStream("long.bin", 10, chunks(Buffer.alloc(12), 4))).rejects.toThrow(
      "zip entry long.bin: 12 bytes where 10 were announced",
    );
  });
});
