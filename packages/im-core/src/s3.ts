/** `@imvault/im-core/s3`: the S3 adapter of the store port (loads the AWS SDK for S3). */
export * from "./store/s3-store.ts";
export * from "./store/s3-unsigned-payload.ts";
