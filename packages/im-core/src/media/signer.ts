import { ImTransportError } from "../errors.ts";
import type { CosSigRequestItem, CosSigResult } from "../im/types.ts";

export type CosSigLookup = (items: CosSigRequestItem[], signal?: AbortSignal) => Promise<CosSigResult[]>;

/**
 * get_cos_sig for a list of RawURLs, asked lazily in batches: the batch holding URL `i` is asked the
 * first time any of its URLs is needed (once, whoever asks), or while the one before it is half used,
 * so that PreSigURLs are fresh when the downloads that use them start rather than minutes of
 * downloads earlier. `refresh(i)` asks again for
 * URL `i` alone, when its PreSigURL lapsed or is about to. ResourceID = the URL's index in the list.
 */
export class PreSigner {
  readonly #urls: readonly string[];
  readonly #batchSize: number;
  readonly #getCosSig: CosSigLookup;
  readonly #batches = new Map<number, Promise<Map<number, CosSigResult>>>();
  readonly #fresh = new Map<number, CosSigResult>();
  /** get_cos_sig calls made (batches and refreshes). */
  calls = 0;

  constructor(urls: readonly string[], batchSize: number, getCosSig: CosSigLookup) {
    this.#urls = urls;
    this.#batchSize = batchSize;
    this.#getCosSig = getCosSig;
  }

  /**
   * The latest answer for URL `i`. Once the downloads reach the middle of a batch, the next batch is
   * asked for in the background, so that they do not wait for get_cos_sig at every batch's start
   * (the calls stay one per batch).
   */
  async get(i: number, signal?: AbortSignal): Promise<CosSigResult> {
    const fresh = this.#fresh.get(i);
    if (fresh !== undefined) return fresh;
    const b = Math.floor(i / this.#batchSize);
    const batch = this.#batch(b, signal);
    if (i % this.#batchSize >= this.#batchSize / 2 && (b + 1) * this.#batchSize < this.#urls.length) {
      // Its failure is the business of whoever awaits that batch (asked again then).
      this.#batch(b + 1, signal).catch(() => {});
    }
    return (await batch).get(i)!;
  }

  #batch(b: number, signal: AbortSignal | undefined): Promise<Map<number, CosSigResult>> {
    let batch = this.#batches.get(b);
    if (batch === undefined) {
      const first = b * this.#batchSize;
      const indexes = this.#urls.slice(first, first + this.#batchSize).map((_, k) => first + k);
      batch = this.#ask(indexes, signal);
      // A failed batch is asked again by the next caller (the whole hour fails anyway, but a retry
      // inside one run must not be served a stale rejection).
      batch.catch(() => this.#batches.delete(b));
      this.#batches.set(b, batch);
    }
    return batch;
  }

  /** Asks again for URL `i` alone and remembers the answer. */
  async refresh(i: number, signal?: AbortSignal): Promise<CosSigResult> {
    const answer = (await this.#ask([i], signal)).get(i)!;
    this.#fresh.set(i, answer);
    return answer;
  }

  async #ask(indexes: number[], signal: AbortSignal | undefined): Promise<Map<number, CosSigResult>> {
    this.calls++;
    const items = indexes.map((i) => ({ ResourceID: i, RawURL: this.#urls[i]! }));
    const results = await this.#getCosSig(items, signal);
    const byId = new Map(results.map((r) => [r.ResourceID, r]));
    const left = indexes.filter((i) => !byId.has(i));
    if (left.length > 0) {
      throw new ImTransportError(
        `Tencent IM get_cos_sig answered without ${left.length} of the ResourceIDs asked for`,
        { retryable: true },
      );
    }
    return byId;
  }
}
