import { createHash } from "node:crypto";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  paginateListObjectsV2,
  type S3Client,
} from "@aws-sdk/client-s3";
import { AlreadyExistsError, NotFoundError, StoreUnavailableError, ValidationError } from "../errors.ts";
import { streamToFile } from "./copy-to-file.ts";
import type { ArchiveStore, ObjectInfo, PutOptions } from "./port.ts";
import { signChecksumInsteadOfPayload } from "./s3-unsigned-payload.ts";

/**
 * 5 MiB, S3's smallest part: the upload holds about (queueSize + 1) parts in memory, so the
 * smallest part keeps the peak memory of an archive lowest (against 8 MiB parts: bench/README.md,
 * "S3 store").
 */
export const DEFAULT_PART_SIZE_BYTES = 5 * 1024 * 1024;
/** Parts in flight at once; memory use is about (queueSize + 1) × partSize, whatever the body's length. */
export const DEFAULT_QUEUE_SIZE = 2;
/** S3's limit for a SigV4 presigned URL. */
export const MAX_SIGNED_URL_TTL_SECONDS = 7 * 24 * 3600;

const MIN_PART_SIZE_BYTES = 5 * 1024 * 1024;

export type Presign = (args: {
  client: S3Client;
  bucket: string;
  key: string;
  ttlSeconds: number;
}) => Promise<string>;

export interface S3StoreOptions {
  client: S3Client;
  bucket: string;
  partSizeBytes?: number;
  queueSize?: number;
  /** Replaces the SigV4 presigner, e.g. to sign for a public endpoint other than the client's. */
  presign?: Presign;
  /** The Object Lock mode of puts that carry `retainUntil`; default GOVERNANCE. */
  objectLockMode?: "GOVERNANCE" | "COMPLIANCE";
}

/** A put's Object Lock headers: the mode and date (S3 requires a checksum with them: checksumParams). */
function lockParams(options: PutOptions, mode: "GOVERNANCE" | "COMPLIANCE") {
  if (options.retainUntil === undefined) return {};
  return { ObjectLockMode: mode, ObjectLockRetainUntilDate: options.retainUntil };
}

/**
 * Every put carries a SHA-256 checksum (x-amz-checksum-sha256), which S3 checks against the bytes it
 * receives and which Object Lock requires of any upload that sets a retention. Where the bytes are
 * known before the request (a Buffer or string body), the store hashes them once and sends the value
 * (ChecksumSHA256, base64): it is the SHA-256 of the whole object. A streamed body's SHA-256 is known
 * only once it has been read, after its first bytes are sent, so the SDK computes one for each request
 * (ChecksumAlgorithm): the whole object when it fits one PutObject, each part of a multipart upload
 * otherwise (S3 keeps a checksum of the parts' checksums then).
 */
function checksumParams(bytes: Buffer | undefined) {
  return bytes === undefined
    ? { ChecksumAlgorithm: "SHA256" as const }
    : { ChecksumSHA256: createHash("sha256").update(bytes).digest("base64") };
}

const defaultPresign: Presign = async ({ client, bucket, key, ttlSeconds }) => {
  // Loaded on first use: only the API presigns, and only for archive downloads.
  const { getSignedUrl } = await import("@aws-sdk/s3-request-presigner");
  return getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: ttlSeconds });
};

/**
 * An ArchiveStore on one S3 bucket. Adds a middleware to `client`: bodies that carry a checksum are
 * not also SHA-256-signed (see s3-unsigned-payload.ts).
 */
export function createS3Store(options: S3StoreOptions): ArchiveStore {
  const { client, bucket } = options;
  const partSize = options.partSizeBytes ?? DEFAULT_PART_SIZE_BYTES;
  const queueSize = options.queueSize ?? DEFAULT_QUEUE_SIZE;
  const presign = options.presign ?? defaultPresign;
  const lockMode = options.objectLockMode ?? "GOVERNANCE";
  if (!Number.isInteger(partSize) || partSize < MIN_PART_SIZE_BYTES) {
    throw new ValidationError(`partSizeBytes must be an integer of at least ${MIN_PART_SIZE_BYTES}`);
  }
  if (!Number.isInteger(queueSize) || queueSize < 1) {
    throw new ValidationError("queueSize must be a positive integer");
  }
  signChecksumInsteadOfPayload(client);

  async function putStream(key: string, body: Readable, options: PutOptions): Promise<{ size: number }> {
    let size = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        size += chunk.length;
        callback(null, chunk);
      },
    });
    // The pipeline carries the body's own error into `counter` (so Upload's reader fails and aborts
    // the multipart upload) and, if the upload fails first, destroys the body too. Only an error the
    // body raised before the upload failed is the body's; later ones are the teardown's echo.
    let uploadFailed = false;
    let bodyError: { error: unknown } | undefined = body.errored ? { error: body.errored } : undefined;
    body.on("error", (error) => {
      if (!uploadFailed && bodyError === undefined) bodyError = { error };
    });
    const piped = pipeline(body, counter).catch(() => {});
    // Loaded on the first streamed put: only the archiver uploads streams, and the functions that
    // only read (the API, the scheduler) should not pay for the module at cold start.
    const { Upload } = await import("@aws-sdk/lib-storage");
    const upload = new Upload({
      client,
      partSize,
      queueSize,
      leavePartsOnError: false,
      params: {
        Bucket: bucket,
        Key: key,
        Body: counter,
        ...(options.contentType === undefined ? {} : { ContentType: options.contentType }),
        // Sent on the single PutObject or on CompleteMultipartUpload, the two calls that create the object.
        ...(options.ifNoneMatch ? { IfNoneMatch: "*" } : {}),
        ...lockParams(options, lockMode),
        ...checksumParams(undefined),
      },
    });
    try {
      await upload.done();
    } catch (error) {
      uploadFailed = true;
      counter.destroy();
      await piped;
      if (bodyError !== undefined) throw bodyError.error;
      throw mapPutError(error, bucket, key);
    }
    await piped;
    return { size };
  }

  async function get(key: string): Promise<Readable> {
    try {
      const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!(answer.Body instanceof Readable)) {
        // Only a browser runtime would answer otherwise; im-core runs on Node.
        throw new TypeError("S3 GetObject answered a body that is not a Node stream");
      }
      return answer.Body;
    } catch (error) {
      if (isNotFound(error))
        throw new NotFoundError(`no object at ${key}`, { details: { key }, cause: error });
      throw error;
    }
  }

  return {
    // An S3 put is durable when it resolves: a deferred one too.
    async syncDeferred() {},

    async put(key, body, putOptions = {}) {
      if (body instanceof Readable) return putStream(key, body, putOptions);
      const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
      try {
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: bytes,
            ContentLength: bytes.length,
            ...(putOptions.contentType === undefined ? {} : { ContentType: putOptions.contentType }),
            ...(putOptions.ifNoneMatch ? { IfNoneMatch: "*" } : {}),
            ...lockParams(putOptions, lockMode),
            ...checksumParams(bytes),
          }),
        );
      } catch (error) {
        throw mapPutError(error, bucket, key);
      }
      return { size: bytes.length };
    },

    get,

    async copyToFile(key, path) {
      return streamToFile(await get(key), path);
    },

    async head(key) {
      try {
        const answer = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return { key, size: answer.ContentLength ?? 0, lastModified: answer.LastModified ?? new Date(0) };
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },

    async *list(prefix): AsyncIterable<ObjectInfo> {
      for await (const page of paginateListObjectsV2({ client }, { Bucket: bucket, Prefix: prefix })) {
        for (const item of page.Contents ?? []) {
          if (item.Key === undefined) continue;
          yield { key: item.Key, size: item.Size ?? 0, lastModified: item.LastModified ?? new Date(0) };
        }
      }
    },

    async delete(key) {
      // S3 answers 204 for a missing key too.
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },

    async setLegalHold(key, on) {
      try {
        // The SDK adds the checksum S3 requires of this call.
        await client.send(
          new PutObjectLegalHoldCommand({
            Bucket: bucket,
            Key: key,
            LegalHold: { Status: on ? "ON" : "OFF" },
          }),
        );
      } catch (error) {
        if (isNotFound(error))
          throw new NotFoundError(`no object at ${key}`, { details: { key }, cause: error });
        throw mapPutError(error, bucket, key);
      }
    },

    async legalHold(key) {
      try {
        const answer = await client.send(new GetObjectLegalHoldCommand({ Bucket: bucket, Key: key }));
        return answer.LegalHold?.Status === "ON";
      } catch (error) {
        // No object, or an object that never had a hold: not held.
        const name = (error as { name?: unknown } | null)?.name;
        if (isNotFound(error) || name === "NoSuchObjectLockConfiguration") return false;
        throw error;
      }
    },

    async signedUrl(key, ttlSeconds) {
      if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_SIGNED_URL_TTL_SECONDS) {
        throw new ValidationError(`ttlSeconds must be an integer from 1 to ${MAX_SIGNED_URL_TTL_SECONDS}`, {
          ttlSeconds,
        });
      }
      return presign({ client, bucket, key, ttlSeconds });
    },
  };
}

function statusOf(error: unknown): number | undefined {
  const metadata = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata;
  return metadata?.httpStatusCode;
}

function isNotFound(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === "NoSuchKey" || name === "NotFound" || statusOf(error) === 404;
}

/** S3 error codes that trying the same write again will not change. */
const PERMANENT_PUT_ERRORS = new Set([
  "AccessDenied",
  "NoSuchBucket",
  "InvalidAccessKeyId",
  "AllAccessDisabled",
]);

/**
 * 412 is S3's answer to `If-None-Match: *` when the key exists; a refusal that will not change
 * becomes a StoreUnavailableError naming the bucket, the key and S3's code.
 */
function mapPutError(error: unknown, bucket: string, key: string): unknown {
  const name = (error as { name?: unknown } | null)?.name;
  if (statusOf(error) === 412 || name === "PreconditionFailed") {
    return new AlreadyExistsError(`an object already exists at ${key}`, { details: { key }, cause: error });
  }
  if (typeof name === "string" && PERMANENT_PUT_ERRORS.has(name)) {
    const path = `s3://${bucket}/${key}`;
    return new StoreUnavailableError(`the S3 store cannot write ${path}: ${name}`, {
      code: name,
      path,
      cause: error,
    });
  }
  return error;
}
