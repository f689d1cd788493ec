import { constants, createZstdCompress, type ZstdCompress, zstdCompressSync } from "node:zlib";

/**
 * A window of 1 MiB, the writer's page size: a page then fits in the window whole. With level 1's own
 * window (512 KiB for a page this big), zstd compressed the second half of every full page with its
 * slower "external dictionary" matcher (bench/README.md, "Message table").
 */
const WINDOW_LOG = 20;

/**
 * Pages smaller than this are compressed at once on the calling thread: a lane's round trip (the
 * stream's write and flush, two hops to a libuv thread and back) cost ~120 µs of CPU for a page of
 * a few KiB, the one-shot compression of such a page ~20–40 µs (bench/README.md, "Message table").
 */
const SYNC_BYTES = 64 * 1024;

/**
 * ZSTD compression of Parquet pages, each page its own frame. A big page goes to a lane, a
 * long-lived compressor stream that ends a frame per page (ZSTD_e_end) and works on libuv's
 * threads (a one-shot zstdCompress sets up a whole context each time); pages go to the lanes in
 * turn, so two pages compress at once beside the thread that parses. A small page is compressed at
 * once on the calling thread (SYNC_BYTES).
 */
export class ZstdPages {
  readonly #lanes: { stream: ZstdCompress; tail: Promise<unknown>; out: Buffer[] }[];
  readonly #params: Record<number, number>;
  #next = 0;

  constructor(level: number, lanes = 2) {
    const params = { [constants.ZSTD_c_compressionLevel]: level, [constants.ZSTD_c_windowLog]: WINDOW_LOG };
    this.#params = params;
    this.#lanes = Array.from({ length: lanes }, () => {
      const stream = createZstdCompress({ params, chunkSize: 256 * 1024 });
      const lane = { stream, tail: Promise.resolve() as Promise<unknown>, out: [] as Buffer[] };
      stream.on("data", (chunk: Buffer) => lane.out.push(chunk));
      // A failure reaches the page's promise through flush's callback; never unhandled.
      stream.on("error", () => {});
      return lane;
    });
  }

  /** The page as one complete ZSTD frame. */
  compress(page: Buffer): Promise<Buffer> {
    if (page.length < SYNC_BYTES) {
      try {
        return Promise.resolve(zstdCompressSync(page, { params: this.#params }));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    const lane = this.#lanes[this.#next]!;
    this.#next = (this.#next + 1) % this.#lanes.length;
    const frame = lane.tail.then(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          lane.stream.write(page, (err) => {
            if (err) reject(err);
          });
          lane.stream.flush(constants.ZSTD_e_end, () => {
            const bytes = Buffer.concat(lane.out);
            lane.out = [];
            if (lane.stream.destroyed) reject(new Error("zstd compressor closed"));
            else resolve(bytes);
          });
        }),
    );
    lane.tail = frame.catch(() => {});
    return frame;
  }

  /** Frees the compressors (after the pages in flight). */
  close(): void {
    for (const lane of this.#lanes) void lane.tail.then(() => lane.stream.destroy());
  }
}

const shared = new Map<number, { pages: ZstdPages; users: number; idle?: NodeJS.Timeout }>();

/**
 * A compressor set shared by the writers of one process (at one level), so that indexing many
 * small files does not set up contexts for each; freed a moment after its last user releases it.
 */
export function acquireZstdPages(level: number): { pages: ZstdPages; release: () => void } {
  let entry = shared.get(level);
  if (entry === undefined) {
    entry = { pages: new ZstdPages(level), users: 0 };
    shared.set(level, entry);
  }
  const e = entry;
  clearTimeout(e.idle);
  e.users++;
  let released = false;
  return {
    pages: e.pages,
    release: () => {
      if (released) return;
      released = true;
      if (--e.users > 0) return;
      e.idle = setTimeout(() => {
        if (e.users > 0) return;
        shared.delete(level);
        e.pages.close();
      }, 1000);
      e.idle.unref();
    },
  };
}
