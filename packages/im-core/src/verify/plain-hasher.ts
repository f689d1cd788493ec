import { createHash } from "node:crypto";
import { HistoryFraming } from "./history-framing.ts";

/** What the plain side measured once every plain byte is inflated, hashed and framed. */
export interface PlainFigures {
  /** Plain bytes inflated. */
  size: number;
  /** Their MD5, hex. */
  md5: string;
  /** Their SHA-256, hex (the manifest's fileSha256). */
  sha256: string;
  /** The framing check's results (see HistoryFraming). */
  messageCount: number;
  framingProblem: string | undefined;
}

export interface PlainHasherOptions {
  /** Plain bytes hashed and framed between two turns of the event loop. */
  sliceBytes: number;
  /** Queued plain bytes at which `push` returns false (the inflater should pause until `room`). */
  readAheadBytes: number;
  /** More plain bytes than this is an overflow: a gzip bomb stops here. */
  limit: number;
}

export interface PlainHasherEvents {
  /** `push` returned false earlier and the queue is below the read-ahead again. */
  room(): void;
  /** A pushed chunk is wholly hashed and framed: its memory may be reused. */
  hashed?(chunk: Buffer): void;
  /** More than `limit` plain bytes were pushed; nothing more is hashed and nothing else is reported. */
  overflow(): void;
  /** `end` was called and every byte pushed is hashed and framed. */
  done(figures: PlainFigures): void;
}

/**
 * The plain side's hashing loop, the same on this thread and on the worker: inflated chunks are
 * queued as they arrive (`push` only queues) and hashed (MD5 and SHA-256) and framed
 * (HistoryFraming) in slices of `sliceBytes`, one slice per turn of the event loop (setImmediate).
 *
 * Why slices: zlib inflates on the libuv threadpool, but it only gets its next piece of work from a
 * callback on this thread. Hashing a whole chunk at once would keep that callback waiting for as long
 * as the hashing takes; between slices it waits at most one slice, so inflating (threadpool) and
 * hashing (this thread) overlap on the two cores. The queue is bounded by the read-ahead: `push`
 * returns false once it is reached, and `room` says when to go on.
 */
export class PlainHasher {
  private readonly options: PlainHasherOptions;
  private readonly events: PlainHasherEvents;
  private readonly hash = createHash("md5");
  private readonly sha256 = createHash("sha256");
  private readonly framing = new HistoryFraming();
  /** Chunks not yet wholly hashed, oldest first; `headOffset` bytes of the first are done. */
  private readonly queue: Buffer[] = [];
  private headOffset = 0;
  private queuedBytes = 0;
  /** Plain bytes pushed so far. */
  private size = 0;
  /** `push` returned false and `room` is still to come. */
  private full = false;
  private scheduled = false;
  private ended = false;
  private stopped = false;

  constructor(options: PlainHasherOptions, events: PlainHasherEvents) {
    this.options = options;
    this.events = events;
  }

  /** Queues the next plain bytes; false when the read-ahead is reached (wait for `room`). */
  push(chunk: Buffer): boolean {
    if (this.stopped) return true;
    this.size += chunk.length;
    if (this.size > this.options.limit) {
      this.stop();
      this.events.overflow();
      return true;
    }
    this.queue.push(chunk);
    this.queuedBytes += chunk.length;
    this.schedule();
    this.full = this.queuedBytes >= this.options.readAheadBytes;
    return !this.full;
  }

  /** No more plain bytes: `done` follows once the queue is hashed. */
  end(): void {
    this.ended = true;
    this.schedule();
  }

  /** Stops for good: nothing more is hashed or reported. */
  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    if (this.queue.length > 0) {
      this.scheduled = true;
      setImmediate(this.slice);
    } else if (this.ended) {
      this.finish();
    }
  }

  /** Hashes and frames one slice of the queue, then yields (see the class comment). */
  private readonly slice = (): void => {
    this.scheduled = false;
    let budget = this.options.sliceBytes;
    while (budget > 0 && this.queue.length > 0 && !this.stopped) {
      const head = this.queue[0]!;
      const end = Math.min(head.length, this.headOffset + budget);
      const piece = this.headOffset === 0 && end === head.length ? head : head.subarray(this.headOffset, end);
      this.hash.update(piece);
      this.sha256.update(piece);
      this.framing.push(piece);
      budget -= piece.length;
      this.queuedBytes -= piece.length;
      if (end < head.length) {
        this.headOffset = end;
      } else {
        this.queue.shift();
        this.headOffset = 0;
        this.events.hashed?.(head);
      }
    }
    if (this.full && this.queuedBytes < this.options.readAheadBytes && !this.stopped) {
      this.full = false;
      this.events.room();
    }
    this.schedule();
  };

  private finish(): void {
    this.stopped = true;
    this.framing.finish();
    this.events.done({
      size: this.size,
      md5: this.hash.digest("hex"),
      sha256: this.sha256.digest("hex"),
      messageCount: this.framing.messageCount,
      framingProblem: this.framing.problem,
    });
  }
}
