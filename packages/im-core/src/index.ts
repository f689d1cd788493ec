/**
 * imvault's library: the Tencent IM client, history parsing, archiving, storage ports and lookups.
 * This file is the package's public surface (`@imvault/im-core`); the AWS adapters have their own
 * entry points so that importing the domain never loads the AWS SDK: `@imvault/im-core/s3` (the S3
 * store), `@imvault/im-core/sqs` (the SQS job queue), `@imvault/im-core/duckdb` (the message table
 * through DuckDB) and `@imvault/im-core/athena` (searches of the table through Athena). Test kit: `@imvault/im-core/testing`.
 * The data shapes (manifest, cos-sig, archive view, coverage, API error and health) are valibot
 * schemas in schemas/, exported here with their inferred types.
 */

export * from "./archive/archive-hour.ts";
export * from "./archive/coverage.ts";
export * from "./archive/layout.ts";
export * from "./archive/manifest.ts";
export * from "./archive/plan.ts";
export * from "./archive/process-job.ts";
export * from "./archive/schedule.ts";
export * from "./archive/verify-archive.ts";
export * from "./errors.ts";
export * from "./evidence/check-digest.ts";
export * from "./evidence/digest-file.ts";
export * from "./evidence/holds.ts";
export * from "./evidence/holds-by-messages.ts";
export * from "./evidence/layout.ts";
export * from "./evidence/local-signer.ts";
export * from "./evidence/object-checks.ts";
export * from "./evidence/object-hash.ts";
export * from "./evidence/records.ts";
export * from "./evidence/seal.ts";
export * from "./evidence/signer.ts";
export * from "./evidence/verify-evidence.ts";
export * from "./evidence/walk-chain.ts";
export * from "./export/api-exports.ts";
export * from "./export/request.ts";
export * from "./history/media.ts";
export * from "./history/parser.ts";
export * from "./im/calls.ts";
export * from "./im/client.ts";
export * from "./im/codes.ts";
export * from "./im/file-rate-limit.ts";
export * from "./im/rate-limit.ts";
export * from "./im/redact.ts";
export * from "./im/types.ts";
export * from "./im/usersig.ts";
export * from "./lookup/archive-views.ts";
export * from "./lookup/auth.ts";
export * from "./lookup/banned-media.ts";
export * from "./lookup/lookup.ts";
export * from "./lookup/media-lookup.ts";
export * from "./lookup/validate-cos-sig.ts";
export * from "./media/capture-hour.ts";
export { type MediaDownloadOptions, type MediaResponse, openMediaDownload } from "./media/download.ts";
export * from "./media/layout.ts";
export * from "./media/manifest.ts";
export * from "./media/plan.ts";
export type { CosSigLookup } from "./media/signer.ts";
export * from "./queue/job.ts";
export type { JobQueue, QueueEntry, SendBatchResult } from "./queue/port.ts";
export * from "./queue/sqs-batch.ts";
export * from "./schemas/index.ts";
export * from "./schemas/limits.ts";
export * from "./store/local-signed-url.ts";
export * from "./store/local-store.ts";
export * from "./store/port.ts";
export * from "./store/retention.ts";
export * from "./table/index-hour.ts";
export * from "./table/message-parquet.ts";
export * from "./table/parquet-footer.ts";
export * from "./table/rows.ts";
export * from "./table/search-sql.ts";
export * from "./table/searches.ts";
export * from "./table/table-worker-pool.ts";
export * from "./time/msgtime.ts";
export * from "./util/clock.ts";
export * from "./util/log.ts";
export * from "./util/metrics.ts";
export * from "./util/retry.ts";
export * from "./verify/verifier.ts";
export * from "./verify/worker-plain-side.ts";
