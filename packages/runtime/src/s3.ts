import { S3Client } from "@aws-sdk/client-s3";
import type { ArchiveStore } from "@imvault/im-core";
import { createS3Store } from "@imvault/im-core/s3";
import type { StoreConfig } from "./settings.ts";

/** The S3 store, in its own module so that only a configuration naming a bucket loads the S3 SDK. */
export function makeS3Store(config: Extract<StoreConfig, { kind: "s3" }>): ArchiveStore {
  const client = new S3Client(
    config.endpoint === undefined ? {} : { endpoint: config.endpoint, forcePathStyle: true },
  );
  return createS3Store({ client, bucket: config.bucket });
}
