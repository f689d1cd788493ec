import { EXPORT_LIMITS } from "@imvault/im-core/constants";
import type { Settings } from "./settings";

/**
 * The archive bucket: versioned, private, https-only, encrypted, write-once (S3 Object Lock), with its
 * lifecycle rules.
 */
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
      // SST defaults to forceDestroy: never empty the production archive on a replace/removal. (A
      // locked object version cannot be deleted by anyone until its retention ends, forceDestroy or not.)
      // SST's Bucket has no Object Lock option: it is enabled here, at creation, and never turned off.
      bucket: { forceDestroy: !settings.production, objectLockEnabled: true },
    },
  });
  new aws.s3.BucketServerSideEncryptionConfiguration("ArchiveEncryption", {
    bucket: bucket.name,
    rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
  });
  // Write-once: every new object version is locked for the default retention unless its put names its
  // own (imvault sets each one until its hour's end plus RETENTION_DAYS; docs/evidence.md). A locked
  // version cannot be overwritten or deleted: a put or delete makes a new version or a delete marker.
  new aws.s3.BucketObjectLockConfiguration("ArchiveObjectLock", {
    bucket: bucket.name,
    rule: {
      defaultRetention: {
        mode: settings.retentionMode === "compliance" ? "COMPLIANCE" : "GOVERNANCE",
        days: settings.retentionDays,
      },
    },
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
        // Exports made through the API are copies for a reviewer, not the archive: expired after the
        // days they are locked for (retention.ts), instead of being kept for RETENTION_DAYS.
        id: "expire-exports",
        status: "Enabled",
        filter: { prefix: "exports/" },
        expiration: { days: EXPORT_LIMITS.keepDays },
      },
      {
        // Versioning is a safety net, not a history: old versions go after N days. Lifecycle never
        // removes a locked version: it goes once its retention has ended (and no legal hold is on).
        // No rule expires current versions: the archive is kept.
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
