import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ArchiveStore } from "@imvault/im-core";

/**
 * The store, telling `onBytes` how many bytes of each raw/ file and media/ object reach it as they
 * stream in (a progress bar's bytes and speed during a big hour). One pass-through step per chunk; everything else is the
 * store's own. A body that fails still fails the put, so the store's veto (nothing left under the key)
 * holds.
 */
export function countingStore(store: ArchiveStore, onBytes: (n: number) => void): ArchiveStore {
  return {
    get: (key) => store.get(key),
    head: (key) => store.head(key),
    list: (prefix) => store.list(prefix),
    delete: (key) => store.delete(key),
    signedUrl: (key, ttl) => store.signedUrl(key, ttl),
    setLegalHold: (key, on) => store.setLegalHold(key, on),
    legalHold: (key) => store.legalHold(key),
    syncDeferred: () => store.syncDeferred(),
    copyToFile: (key, path) => store.copyToFile(key, path),
    put(key, body, options) {
      const counted = key.startsWith("raw/") || key.startsWith("media/");
      if (!counted || typeof body === "string" || Buffer.isBuffer(body)) {
        return store.put(key, body, options);
      }
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          onBytes(chunk.length);
          done(null, chunk);
        },
      });
      // The body's error (a failed verification) destroys the counter with it, which fails the put.
      pipeline(body, counter).catch(() => {});
      return store.put(key, counter, options);
    },
  };
}
