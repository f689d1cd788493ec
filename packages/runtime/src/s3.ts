import { S3Client } from "@aws-sdk/client-s3";
import { type ArchiveStore, withRetention } from "@imvault/im-core";
import { createS3Store } from "@imvault/im-core/s3";
import type { StoreConfig } from "./settings.ts";

/**
 * The S3 store, in its own module so that only a configuration naming a bucket loads the S3 SDK. With
 * a retention (RETENTION_MODE/RETENTION_DAYS, linked in AWS) each put is locked until its hour's end
 * plus the days, in that mode (S3 Object Lock).
 */
export function makeS3Store(config: Extract<StoreConfig, { kind: "s3" }>): ArchiveStore {
  const client = new S3Client(
    config.endpoint === undefined ? {} : { endpoint: config.endpoint, forcePathStyle: true },
  );
  const { retention } = config;
  const store = createS3Store({
    client,
    bucket: config.bucket,
    ...(retention === undefined
      ? {}
      : { objectLockMode: retention.mode === "compliance" ? "COMPLIANCE" : "GOVERNANCE" }),
  });
  return retention === undefined ? store : withRetention(store, retention.days);
}
