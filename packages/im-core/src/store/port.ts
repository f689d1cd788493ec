import type { Readable } from "node:stream";

/** What the store knows of one object. */
export interface ObjectInfo {
  key: string;
  size: number;
  lastModified: Date;
}

export interface PutOptions {
  /** Refuse (with AlreadyExistsError) if the key exists. Used for manifests, the commit point. */
  ifNoneMatch?: boolean;
  contentType?: string;
}

/**
 * Where archived files and manifests live: an S3 bucket in AWS, a directory on one machine. Keys are
 * the storage layout's (`raw/…`, `manifests/…`), always with forward slashes.
 *
 * `put` streams: it never holds a whole body in memory. If the body stream errors, `put` rejects and
 * nothing is left visible under the key (an S3 multipart upload is aborted, a temp file removed), so a
 * verifying transform can veto a file by failing before its end.
 */
export interface ArchiveStore {
  put(key: string, body: Readable | Buffer | string, options?: PutOptions): Promise<{ size: number }>;
  /** A stream of the object's bytes. Throws NotFoundError if there is none. */
  get(key: string): Promise<Readable>;
  /** The object's info, or undefined if there is none. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Every object whose key starts with `prefix`, in key order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** Removes the object; removing a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** A URL that lets its holder GET the object for `ttlSeconds`, without credentials. */
  signedUrl(key: string, ttlSeconds: number): Promise<string>;
}
