import type { Settings } from "./settings";

/** The archive bucket: versioned, private, https-only, encrypted, with its lifecycle rules. */
export function storage(settings: Settings) {
  const bucket = new sst.aws.Bucket("ArchiveStore", {
    versioning: true, // an overwritten or deleted manifest/raw file stays recoverable
    enforceHttps: true, // bucket policy: Deny s3:* when aws:SecureTransport = false
    cors: false, // nothing calls the bucket from a browser; presigned GETs need no CORS
    transform: {
      // public access block: SST's defaults (all four on for a private bucket); stated here.
      publicAccessBlock: {
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      // SST defaults to forceDestroy: never empty the production archive on a replace/removal.
      bucket: { forceDestroy: !settings.production },
    },
  });
  new aws.s3.BucketServerSideEncryptionConfiguration("ArchiveEncryption", {
    bucket: bucket.name,
    rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
  });
  new aws.s3.BucketLifecycleConfiguration("ArchiveLifecycle", {
    bucket: bucket.name,
    rules: [
      {
        // Verified history files are read rarely: Glacier Instant Retrieval keeps millisecond reads
        // (presigned downloads keep working) at a fraction of STANDARD's price.
        id: "raw-to-glacier-ir",
        status: "Enabled",
        filter: { prefix: "raw/" },
        transitions: [{ days: settings.rawColdAfterDays, storageClass: "GLACIER_IR" }],
      },
      {
        // Multipart uploads left by a timed-out archive invocation cost storage until aborted.
        id: "abort-incomplete-multipart",
        status: "Enabled",
        filter: { prefix: "" },
        abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
      },
      {
        // Versioning is a safety net, not a history: old versions go after N days.
        id: "expire-noncurrent-versions",
        status: "Enabled",
        filter: { prefix: "" },
        noncurrentVersionExpiration: { noncurrentDays: settings.noncurrentVersionDays },
        expiration: { expiredObjectDeleteMarker: true },
      },
    ],
  });
  return { bucket };
}
