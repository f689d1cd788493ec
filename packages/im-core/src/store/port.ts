import type { Readable } from "node:stream";

/** What the store knows of one object. */
export interface ObjectInfo {
  key: string;
  size: number;
  lastModified: Date;
}

export interface PutOptions {
  /**
   * Create only: refuse (with AlreadyExistsError) if the key exists, leaving that object untouched.
   * The check and the write are one atomic step at the end of the put. Used for manifests, the commit
   * point, and for raw files, so that no attempt ever replaces a file a manifest may name.
   */
  ifNoneMatch?: boolean;
  contentType?: string;
  /**
   * Write-once storage: lock the object until then (S3 Object Lock, in the store's mode). A local
   * store does not lock; it ignores this.
   */
  retainUntil?: Date;
  /**
   * "deferred": the put resolves once the object is in place whole (it is never visible in part,
   * also to a process killed with kill -9, and its bytes are on disk before its name appears), but
   * its name may not yet survive a power loss: `syncDeferred()` makes it (and every other deferred
   * put's) durable. For a batch of objects whose commit point is written after them, e.g. an hour's
   * media before its media manifest: the store then makes the batch durable once, not each object.
   * Default "immediate": durable when the put resolves.
   */
  durability?: "immediate" | "deferred";
}

/**
 * Where archived files and manifests live: an S3 bucket in AWS, a directory on one machine. Keys are
 * the storage layout's (`raw/…`, `manifests/…`), always with forward slashes.
 *
 * `put` streams: it never holds a whole body in memory. Until it resolves, what it writes is visible
 * to nobody (an S3 multipart upload, a temp file under the local store's `.imvault/tmp`); the object
 * appears whole, at once. If the body stream errors, `put` rejects and nothing is left visible under
 * the key, so a verifying transform can veto a file by failing before its end. If `put` rejects for
 * any other reason, it destroys a stream body it has not read to the end, so that whatever feeds the
 * body learns of it instead of waiting.
 *
 * A failure that trying again cannot fix (no permission, a read-only file system, a full disk, a
 * missing bucket) is a StoreUnavailableError whose message names the path or bucket and the cause.
 */
export interface ArchiveStore {
  put(key: string, body: Readable | Buffer | string, options?: PutOptions): Promise<{ size: number }>;
  /**
   * Makes every put with `durability: "deferred"` that resolved before this call durable; resolves
   * once they are. A commit point that names them is written after it. (S3 puts are durable when they
   * resolve: nothing to do.)
   */
  syncDeferred(): Promise<void>;
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
  /**
   * Places (`on`) or lifts a legal hold on the object: while held it cannot be deleted or replaced
   * (S3: PutObjectLegalHold on the current version; locally enforced by the store). NotFoundError
   * when placing one on a key with no object.
   */
  setLegalHold(key: string, on: boolean): Promise<void>;
  /** Whether the object is under a legal hold (false when there is no object). */
  legalHold(key: string): Promise<boolean>;
  /**
   * Writes the object's bytes to a new local file at `path` (its directory exists; a file already
   * there is an error, EEXIST) and answers their size and SHA-256, hashed as they passed: a copy that
   * can be checked without reading it again. Streamed: a big object is never held whole. NotFoundError
   * if there is no object; on any failure nothing is left at `path`.
   */
  copyToFile(key: string, path: string): Promise<CopiedFile>;
}

/** What copyToFile wrote. */
export interface CopiedFile {
  size: number;
  sha256: string;
}
