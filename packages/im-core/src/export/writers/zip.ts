/**
 * A zip archive written front to back as its entries come, for rsmf.zip. Media are stored as they
 * are (compressed already); a buffer may be deflated (rsmf_manifest.json, JSON that shrinks several
 * times). Zip64 records are written where a size, an offset or the number of entries needs them
 * (PKWARE APPNOTE 6.3.10, sections 4.3, 4.4 and 4.5.3).
 *
 * Written by hand rather than with yazl: yazl computes CRC-32 in JavaScript and pipes every entry
 * through four streams, which cost more than a third of an rsmf export's CPU (bench/README.md,
 * "Export"); here the CRC-32 is Node's own (zlib.crc32) and an entry is two or three writes.
 * What it writes is read back by yauzl in the tests (zip.test.ts, and every rsmf the system tests
 * export).
 */
import { crc32, deflateRawSync } from "node:zlib";

const MAX32 = 0xffffffff;
const MAX16 = 0xffff;
/** General purpose flags: bit 11, names are UTF-8; bit 3, CRC-32 and sizes follow the data. */
const UTF8_NAMES = 1 << 11;
const DATA_DESCRIPTOR = 1 << 3;
/** Made by: Unix (3), APPNOTE 6.3. Needed to extract: 2.0, or 4.5 with Zip64 records. */
const MADE_BY = (3 << 8) | 63;
const NEEDS = 20;
const NEEDS_ZIP64 = 45;
/** External attributes: a regular file, rw-r--r--. */
const FILE_MODE = (0o100644 << 16) >>> 0;
const ZIP64_EXTRA = 0x0001;
/** Compression methods: stored, deflated. */
const STORED = 0;
const DEFLATED = 8;

interface Entry {
  name: Buffer;
  flags: number;
  method: number;
  crc: number;
  /** Uncompressed size. */
  size: number;
  /** Size in the archive (`size` when stored). */
  stored: number;
  offset: number;
}

export interface ZipOptions {
  /**
   * Every entry's modification time, as DOS date and time (which have no zone): the fields of this
   * Date in UTC.
   */
  modified: Date;
  /** Zip64 records for every entry and the end, whatever the sizes (for tests). */
  forceZip64?: boolean;
}

export class ZipWriter {
  readonly #write: (chunk: Buffer) => Promise<void>;
  readonly #entries: Entry[] = [];
  readonly #time: number;
  readonly #date: number;
  readonly #force: boolean;
  #offset = 0;

  /** `write` is given the archive's bytes in order and awaited each time. */
  constructor(write: (chunk: Buffer) => Promise<void>, options: ZipOptions) {
    this.#write = write;
    this.#force = options.forceZip64 === true;
    const d = options.modified;
    this.#time = (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1);
    this.#date = ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate();
  }

  /**
   * An entry whose bytes are all at hand: its CRC-32 and sizes go in its local header. `deflate`
   * compresses it (meant for text of a few MiB at most: it is compressed in one call).
   */
  async addBuffer(name: string, data: Buffer, options: { deflate?: boolean } = {}): Promise<void> {
    const body = options.deflate === true ? deflateRawSync(data) : data;
    const method = options.deflate === true ? DEFLATED : STORED;
    const entry = this.#entry(name, 0, method, crc32(data), data.length, body.length);
    await this.#emit(this.#localHeader(entry, false));
    await this.#emit(body);
  }

  /**
   * An entry read from `source`, which must yield exactly `size` bytes (an Error otherwise); its
   * CRC-32 is computed as the bytes pass and written after them, in a data descriptor.
   */
  async addStream(name: string, size: number, source: AsyncIterable<Buffer>): Promise<void> {
    const entry = this.#entry(name, DATA_DESCRIPTOR, STORED, 0, size, size);
    const zip64 = this.#force || size >= MAX32;
    await this.#emit(this.#localHeader(entry, zip64));
    let crc = 0;
    let seen = 0;
    for await (const chunk of source) {
      crc = crc32(chunk, crc);
      seen += chunk.length;
      if (seen > size) break;
      await this.#emit(chunk);
    }
    if (seen !== size) throw new Error(`zip entry ${name}: ${seen} bytes where ${size} were announced`);
    entry.crc = crc;
    const descriptor = Buffer.alloc(zip64 ? 24 : 16);
    descriptor.writeUInt32LE(0x08074b50, 0);
    descriptor.writeUInt32LE(crc, 4);
    if (zip64) {
      descriptor.writeBigUInt64LE(BigInt(size), 8);
      descriptor.writeBigUInt64LE(BigInt(size), 16);
    } else {
      descriptor.writeUInt32LE(size, 8);
      descriptor.writeUInt32LE(size, 12);
    }
    await this.#emit(descriptor);
  }

  /** The central directory and the end records; nothing may be added after. */
  async end(): Promise<void> {
    const start = this.#offset;
    const headers = this.#entries.map((e) => this.#centralHeader(e));
    const central = Buffer.concat(headers);
    await this.#emit(central);
    const count = this.#entries.length;
    const zip64 = this.#force || count >= MAX16 || central.length >= MAX32 || start >= MAX32;
    const tail: Buffer[] = [];
    if (zip64) {
      const at = this.#offset;
      const record = Buffer.alloc(56);
      record.writeUInt32LE(0x06064b50, 0);
      record.writeBigUInt64LE(44n, 4);
      record.writeUInt16LE(MADE_BY, 12);
      record.writeUInt16LE(NEEDS_ZIP64, 14);
      // Disk numbers (16, 20) are 0.
      record.writeBigUInt64LE(BigInt(count), 24);
      record.writeBigUInt64LE(BigInt(count), 32);
      record.writeBigUInt64LE(BigInt(central.length), 40);
      record.writeBigUInt64LE(BigInt(start), 48);
      const locator = Buffer.alloc(20);
      locator.writeUInt32LE(0x07064b50, 0);
      locator.writeBigUInt64LE(BigInt(at), 8);
      locator.writeUInt32LE(1, 16);
      tail.push(record, locator);
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(zip64 ? MAX16 : count, 8);
    end.writeUInt16LE(zip64 ? MAX16 : count, 10);
    end.writeUInt32LE(zip64 ? MAX32 : central.length, 12);
    end.writeUInt32LE(zip64 ? MAX32 : start, 16);
    tail.push(end);
    await this.#emit(Buffer.concat(tail));
  }

  #entry(name: string, flags: number, method: number, crc: number, size: number, stored: number): Entry {
    const entry = {
      name: Buffer.from(name, "utf8"),
      flags: UTF8_NAMES | flags,
      method,
      crc,
      size,
      stored,
      offset: this.#offset,
    };
    if (entry.name.length > MAX16) throw new Error(`zip entry name too long: ${name}`);
    this.#entries.push(entry);
    return entry;
  }

  async #emit(chunk: Buffer): Promise<void> {
    this.#offset += chunk.length;
    await this.#write(chunk);
  }

  /**
   * With a data descriptor the CRC-32 and sizes here are 0, or (Zip64) 0xFFFFFFFF with an extra
   * field of zero sizes; the descriptor and the central directory hold the real ones.
   */
  #localHeader(e: Entry, zip64: boolean): Buffer {
    const later = (e.flags & DATA_DESCRIPTOR) !== 0;
    const extra = zip64 ? 20 : 0;
    const h = Buffer.alloc(30 + e.name.length + extra);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(zip64 ? NEEDS_ZIP64 : NEEDS, 4);
    h.writeUInt16LE(e.flags, 6);
    h.writeUInt16LE(e.method, 8);
    h.writeUInt16LE(this.#time, 10);
    h.writeUInt16LE(this.#date, 12);
    h.writeUInt32LE(later ? 0 : e.crc, 14);
    h.writeUInt32LE(zip64 ? MAX32 : later ? 0 : e.stored, 18);
    h.writeUInt32LE(zip64 ? MAX32 : later ? 0 : e.size, 22);
    h.writeUInt16LE(e.name.length, 26);
    h.writeUInt16LE(extra, 28);
    e.name.copy(h, 30);
    if (zip64) {
      const x = 30 + e.name.length;
      h.writeUInt16LE(ZIP64_EXTRA, x);
      h.writeUInt16LE(16, x + 2);
      h.writeBigUInt64LE(later ? 0n : BigInt(e.size), x + 4);
      h.writeBigUInt64LE(later ? 0n : BigInt(e.stored), x + 12);
    }
    return h;
  }

  /**
   * Sizes and offset past 32 bits (or all of them, forced) go in a Zip64 extra field, in that order:
   * uncompressed size, compressed size, offset.
   */
  #centralHeader(e: Entry): Buffer {
    const bigSize = this.#force || e.size >= MAX32 || e.stored >= MAX32;
    const bigOffset = this.#force || e.offset >= MAX32;
    const extraValues = [...(bigSize ? [e.size, e.stored] : []), ...(bigOffset ? [e.offset] : [])];
    const extra = extraValues.length === 0 ? 0 : 4 + 8 * extraValues.length;
    const h = Buffer.alloc(46 + e.name.length + extra);
    h.writeUInt32LE(0x02014b50, 0);
    h.writeUInt16LE(MADE_BY, 4);
    h.writeUInt16LE(extra > 0 ? NEEDS_ZIP64 : NEEDS, 6);
    h.writeUInt16LE(e.flags, 8);
    h.writeUInt16LE(e.method, 10);
    h.writeUInt16LE(this.#time, 12);
    h.writeUInt16LE(this.#date, 14);
    h.writeUInt32LE(e.crc, 16);
    h.writeUInt32LE(bigSize ? MAX32 : e.stored, 20);
    h.writeUInt32LE(bigSize ? MAX32 : e.size, 24);
    h.writeUInt16LE(e.name.length, 28);
    h.writeUInt16LE(extra, 30);
    // Comment length (32), disk (34), internal attributes (36): 0.
    h.writeUInt32LE(FILE_MODE, 38);
    h.writeUInt32LE(bigOffset ? MAX32 : e.offset, 42);
    e.name.copy(h, 46);
    if (extra > 0) {
      let x = 46 + e.name.length;
      h.writeUInt16LE(ZIP64_EXTRA, x);
      h.writeUInt16LE(extra - 4, x + 2);
      x += 4;
      for (const value of extraValues) {
        h.writeBigUInt64LE(BigInt(value), x);
        x += 8;
      }
    }
    return h;
  }
}
