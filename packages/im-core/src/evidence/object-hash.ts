import { createHash } from "node:crypto";
import { NotFoundError } from "../errors.ts";
import type { ArchiveStore } from "../store/port.ts";

export interface ObjectHash {
  sha256: string;
  size: number;
}

/** SHA-256 and size of the stored object, streamed; undefined when there is no object at `key`. */
export async function hashStored(store: ArchiveStore, key: string): Promise<ObjectHash | undefined> {
  const hash = createHash("sha256");
  let size = 0;
  try {
    for await (const chunk of await store.get(key)) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
  return { sha256: hash.digest("hex"), size };
}

/** The object's bytes, or undefined when there is none (for small JSON objects only). */
export async function readStored(store: ArchiveStore, key: string): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of await store.get(key)) chunks.push(chunk as Buffer);
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
  return Buffer.concat(chunks);
}

/** Runs `work` over `items`, at most `limit` at once, keeping their order in the answer. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
