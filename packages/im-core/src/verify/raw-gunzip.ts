import { createInflateRaw, type InflateRaw } from "node:zlib";

/** Where a RawGunzip's plain bytes and its outcome go. */
export interface RawGunzipSink {
  /** The next plain bytes, in order. */
  data(chunk: Buffer): void;
  /** Every member is inflated and its trailer checked. */
  end(): void;
  /** Called once: the bytes are not valid gzip (`code` as zlib's own errors: Z_DATA_ERROR, Z_BUF_ERROR). */
  error(error: Error & { code?: string }): void;
}

// RFC 1952's header flags.
const FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;
const RESERVED = 0xe0;
/** A header longer than this (a name or comment without its terminating zero) is refused. */
const MAX_HEADER_BYTES = 1024 * 1024;

/** Where the parser is: a member's header, its deflate data, its trailer, after it, or past the end. */
type State = "header" | "body" | "trailer" | "between" | "done";

/** GZip bytes no state has taken yet; `done` is the writer's (none for bytes the parser held). */
interface Pending {
  chunk: Uint8Array;
  done: (() => void) | undefined;
}

/**
 * Gunzip as Node's own (several members in a row, zero bytes after the last one ignored, anything else
 * after it refused), but each member's deflate data inflated raw (zlib's InflateRaw), so zlib skips
 * the CRC-32 of the plain bytes, which Node computes with a table, not the CPU's carry-less multiply
 * (its cost: bench/README.md, "Verifier"). The CRC adds nothing here: the verifier checks the plain
 * bytes' size and MD5 against Tencent's (so a file whose only flaw is its CRC is kept,
 * byte-identical, where Node's Gunzip would refuse it). The header is parsed here (RFC 1952), and
 * each trailer's ISIZE is checked.
 */
export class RawGunzip {
  private readonly chunkSize: number;
  private readonly sink: RawGunzipSink;
  private state: State = "header";
  /** Bytes not yet taken by a state (copies): the header or trailer so far, and what follows it. */
  private held: Buffer = Buffer.alloc(0);
  private readonly input: Pending[] = [];
  /** The member inflating. */
  private member: InflateRaw | undefined;
  /** A write to `member` awaits its callback. */
  private writing = false;
  /** Bytes written to `member`. */
  private fed = 0;
  /** `member`'s deflate data ended (the bytes after it went to `held`). */
  private deflateOver = false;
  /** `member` emitted its last plain bytes. */
  private memberEnded = false;
  private memberPlain = 0;
  private ended = false;
  private paused = false;
  private stopped = false;

  constructor(chunkSize: number, sink: RawGunzipSink) {
    this.chunkSize = chunkSize;
    this.sink = sink;
  }

  /** Feeds the next GZip bytes; `done` runs once they are used or copied, so `chunk` may be reused. */
  write(chunk: Uint8Array, done: () => void): void {
    if (this.stopped) {
      done();
      return;
    }
    this.input.push({ chunk, done });
    this.pump();
  }

  /** No more GZip bytes. */
  end(): void {
    this.ended = true;
    this.pump();
  }

  /** Stops inflating (the plain side's backpressure) until `resume`. */
  pause(): void {
    this.paused = true;
    this.member?.pause();
  }

  resume(): void {
    this.paused = false;
    this.member?.resume();
  }

  /** Stops for good: no more calls reach the sink; bytes still held are handed back. */
  destroy(): void {
    this.stopped = true;
    this.member?.destroy();
    for (const { done } of this.input.splice(0)) done?.();
  }

  /** Moves the input on: into the member inflating, or into `held` for the header/trailer parser. */
  private pump(): void {
    while (!this.stopped && !this.writing && this.input.length > 0) {
      const { chunk, done } = this.input.shift()!;
      if (this.state === "body" && !this.deflateOver) {
        this.feed(chunk, done);
      } else if (this.state === "done") {
        done?.(); // zero padding after the last member, and whatever follows it: ignored, as Node does
      } else {
        this.held = this.held.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.held, chunk]);
        done?.();
        this.parse();
      }
    }
    if (!this.stopped && this.ended && !this.writing && this.input.length === 0) this.finish();
  }

  /** One write at a time, so the bytes after the deflate data (found in its callback) stay in order. */
  private feed(chunk: Uint8Array, done: (() => void) | undefined): void {
    const member = this.member!;
    const before = this.fed;
    this.fed += chunk.length;
    this.writing = true;
    member.write(chunk, () => {
      this.writing = false;
      if (this.stopped) {
        done?.();
        return;
      }
      // zlib stops taking input where the deflate data ends: the rest is the trailer and after.
      const used = member.bytesWritten - before;
      if (used < chunk.length) {
        this.deflateOver = true;
        this.state = "trailer";
        this.held = Buffer.from(chunk.subarray(used));
      }
      done?.();
      if (this.deflateOver) this.parse();
      this.pump();
    });
  }

  /** Takes what it can from `held`: headers, trailers, the step from one member to the next. */
  private parse(): void {
    for (;;) {
      if (this.stopped) return;
      if (this.state === "header") {
        const length = this.headerLength();
        if (length === 0) return;
        const rest = this.held.subarray(length);
        this.held = Buffer.alloc(0);
        this.startMember();
        // What followed the header is deflate data: it goes to the member before any newer input.
        if (rest.length > 0) this.input.unshift({ chunk: rest, done: undefined });
        return;
      }
      if (this.state === "trailer") {
        if (!this.memberEnded || this.held.length < 8) return;
        // ISIZE: the plain size modulo 2^32. (The CRC-32 before it is skipped: see above.)
        if (this.held.readUInt32LE(4) !== this.memberPlain % 2 ** 32) {
          this.fail("Z_DATA_ERROR", "incorrect length check");
          return;
        }
        this.held = this.held.subarray(8);
        this.state = "between";
        this.member!.destroy();
      }
      if (this.state === "between") {
        if (this.held.length === 0) return;
        // Zero bytes after a member are padding (Node ignores them and all that follows); anything
        // else must be another member.
        if (this.held[0] === 0) {
          this.state = "done";
          this.held = Buffer.alloc(0);
          return;
        }
        this.state = "header";
        continue;
      }
      return;
    }
  }

  /** The length of the complete header at the start of `held`, 0 while it is incomplete (or refused). */
  private headerLength(): number {
    const h = this.held;
    if (h.length >= 1 && h[0] !== 0x1f) return this.fail("Z_DATA_ERROR", "incorrect header check");
    if (h.length >= 2 && h[1] !== 0x8b) return this.fail("Z_DATA_ERROR", "incorrect header check");
    if (h.length >= 3 && h[2] !== 8) return this.fail("Z_DATA_ERROR", "unknown compression method");
    if (h.length >= 4 && (h[3]! & RESERVED) !== 0)
      return this.fail("Z_DATA_ERROR", "unknown header flags set");
    if (h.length > MAX_HEADER_BYTES) return this.fail("Z_DATA_ERROR", "header too long");
    if (h.length < 10) return 0;
    const flags = h[3]!;
    let at = 10;
    if (flags & FEXTRA) {
      if (h.length < at + 2) return 0;
      at += 2 + h.readUInt16LE(at);
    }
    for (const flag of [FNAME, FCOMMENT]) {
      if (flags & flag) {
        const zero = h.indexOf(0, at);
        if (zero === -1) return 0;
        at = zero + 1;
      }
    }
    if (flags & FHCRC) at += 2;
    return h.length >= at ? at : 0;
  }

  private startMember(): void {
    const inflater = createInflateRaw({ chunkSize: this.chunkSize });
    this.member = inflater;
    this.state = "body";
    this.fed = 0;
    this.memberPlain = 0;
    this.deflateOver = false;
    this.memberEnded = false;
    if (this.paused) inflater.pause();
    inflater.on("data", (chunk: Buffer) => {
      if (this.stopped) return;
      this.memberPlain += chunk.length;
      this.sink.data(chunk);
    });
    inflater.on("end", () => {
      if (this.stopped) return;
      this.memberEnded = true;
      this.parse();
      this.pump();
    });
    inflater.on("error", (err: Error & { code?: string }) => {
      if (this.stopped) return;
      this.stopped = true;
      this.sink.error(err);
    });
  }

  /** The input is over: a member half-way, or a header or trailer cut short, is an error. */
  private finish(): void {
    if (this.state === "body" && !this.deflateOver && !this.memberEnded) {
      // zlib reports an incomplete deflate stream itself ("unexpected end of file"); a complete one
      // ends the member, and this runs again.
      if (!this.member!.writableEnded) this.member!.end();
      return;
    }
    if (this.state === "trailer" && !this.memberEnded) return; // its last plain bytes are on their way
    if (this.state === "between" || this.state === "done") {
      this.stopped = true;
      this.sink.end();
      return;
    }
    this.fail("Z_BUF_ERROR", "unexpected end of file");
  }

  private fail(code: string, message: string): 0 {
    if (!this.stopped) {
      this.stopped = true;
      this.member?.destroy();
      this.sink.error(Object.assign(new Error(message), { code }));
    }
    return 0;
  }
}

/**
 * RawGunzip as an async iterable: the plain bytes of `gzip`, in chunks of up to `chunkSize`, read
 * from the source one chunk at a time; inflating pauses while `chunkSize * 4` bytes or more wait
 * for the consumer (zlib's own buffers hold a few chunks more). Throws the source's error, or
 * RawGunzip's (`code` Z_DATA_ERROR, Z_BUF_ERROR). Stopping early stops reading the source at its
 * next chunk.
 */
export async function* rawGunzipChunks(
  gzip: AsyncIterable<Uint8Array>,
  chunkSize: number,
): AsyncGenerator<Buffer, void, undefined> {
  const ahead = chunkSize * 4;
  const queue: Buffer[] = [];
  let queued = 0;
  let ended = false;
  let stopped = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const signal = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const gunzip = new RawGunzip(chunkSize, {
    data: (chunk) => {
      queue.push(chunk);
      queued += chunk.length;
      if (queued >= ahead) gunzip.pause();
      signal();
    },
    end: () => {
      ended = true;
      signal();
    },
    error: (error) => {
      failure ??= { error };
      signal();
    },
  });
  void (async () => {
    for await (const chunk of gzip) {
      if (stopped || failure !== undefined) return;
      await new Promise<void>((done) => gunzip.write(chunk, done));
    }
    gunzip.end();
  })().catch((error: unknown) => {
    failure ??= { error };
    signal();
  });
  try {
    for (;;) {
      const chunk = queue.shift();
      if (chunk !== undefined) {
        queued -= chunk.length;
        if (queued < ahead) gunzip.resume();
        yield chunk;
      } else if (failure !== undefined) {
        throw failure.error;
      } else if (ended) {
        return;
      } else {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    }
  } finally {
    // Not awaited: a source that never ends (a worker's inbox after a failure) must not hold this up.
    stopped = true;
    gunzip.destroy();
  }
}
