import { createGunzip, type Gunzip, type ZlibOptions } from "node:zlib";
import { PlainHasher } from "./plain-hasher.ts";
import type { PlainSide, PlainSideEvents, PlainSideOptions } from "./plain-side.ts";

/**
 * The plain side on the verifier's own thread, for small files (a worker's start-up costs more than
 * it saves) and wherever no worker can be started: Node's Gunzip inflates on the libuv threadpool
 * while this thread hashes (PlainHasher). Its 'data' listener only queues, so zlib gets its next
 * piece of work before anything is hashed; the hasher pauses it at the read-ahead.
 */
export class InThreadPlainSide implements PlainSide {
  private readonly inflater: Gunzip;
  private readonly hasher: PlainHasher;
  private closed = false;

  constructor(options: PlainSideOptions, events: PlainSideEvents) {
    this.hasher = new PlainHasher(
      { sliceBytes: options.sliceBytes, readAheadBytes: options.readAheadBytes, limit: options.limit },
      {
        room: () => this.inflater.resume(),
        overflow: () => {
          this.close();
          events.failed("overflow", new Error(`more than ${options.limit} plain bytes`));
        },
        done: (figures) => {
          if (!this.closed) events.done(figures);
        },
      },
    );
    // zlib passes its options on to Transform, so a stream option sets the backlog (the types omit it).
    const zlibOptions: ZlibOptions & { writableHighWaterMark: number } = {
      chunkSize: options.chunkSize,
      writableHighWaterMark: options.backlogBytes,
    };
    this.inflater = createGunzip(zlibOptions);
    this.inflater.on("data", (chunk: Buffer) => {
      if (!this.hasher.push(chunk)) this.inflater.pause();
    });
    this.inflater.on("drain", () => {
      if (!this.closed) events.room();
    });
    this.inflater.on("end", () => this.hasher.end());
    this.inflater.on("error", (error) => {
      if (this.closed) return;
      this.close();
      events.failed("gzip", error);
    });
  }

  write(gzip: Buffer): boolean {
    return this.closed || this.inflater.write(gzip);
  }

  end(): void {
    if (!this.closed) this.inflater.end();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.hasher.stop();
    this.inflater.destroy();
  }
}
