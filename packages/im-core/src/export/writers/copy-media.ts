import { type ExportMedia, mediaExportPath } from "../media.ts";
import type { ExportDir } from "../output.ts";

/**
 * Copies captured media into the export at their archive keys (`media/{host}/{path}`), once however
 * many messages hold them, `limit` at a time in the background: a page can name a file before its
 * bytes are all written, and `drain` waits for every copy (and throws the first failure).
 */
export class MediaCopier {
  readonly #dir: ExportDir;
  readonly #open: (media: ExportMedia) => Promise<AsyncIterable<unknown>>;
  readonly #onBytes: (n: number) => void;
  readonly #limit: number;
  readonly #scheduled = new Set<string>();
  readonly #inflight = new Set<Promise<void>>();
  #error: unknown;

  constructor(
    dir: ExportDir,
    open: (media: ExportMedia) => Promise<AsyncIterable<unknown>>,
    onBytes: (n: number) => void,
    limit: number,
  ) {
    this.#dir = dir;
    this.#open = open;
    this.#onBytes = onBytes;
    this.#limit = limit;
  }

  /** The medium's path in the export (its copy started), or undefined when there are no bytes to copy. */
  async copy(media: ExportMedia): Promise<string | undefined> {
    if (media.status !== "captured") return undefined;
    const path = mediaExportPath(media);
    if (this.#scheduled.has(path)) return path;
    this.#scheduled.add(path);
    while (this.#inflight.size >= this.#limit) await Promise.race(this.#inflight);
    this.#throwIfFailed();
    const copy: Promise<void> = this.#copyOne(path, media)
      .catch((error: unknown) => {
        this.#error ??= error;
      })
      .finally(() => this.#inflight.delete(copy));
    this.#inflight.add(copy);
    return path;
  }

  async drain(): Promise<void> {
    await Promise.all(this.#inflight);
    this.#throwIfFailed();
  }

  /** Waits for the copies under way, whatever their outcome (before removing a failed export). */
  async settle(): Promise<void> {
    await Promise.allSettled(this.#inflight);
  }

  /** Copies started so far. */
  get count(): number {
    return this.#scheduled.size;
  }

  #throwIfFailed(): void {
    if (this.#error !== undefined) throw this.#error;
  }

  async #copyOne(path: string, media: ExportMedia): Promise<void> {
    // The stream fails unless the bytes hash to the recorded SHA-256: that is the file's hash.
    const sink = await this.#dir.open(path, { sha256: media.sha256! });
    for await (const chunk of await this.#open(media)) {
      await sink.write(chunk as Buffer);
      this.#onBytes((chunk as Buffer).length);
    }
    await sink.close();
  }
}
