import type { Settings } from "./settings";

/**
 * The message table in AWS: a Glue table over `tables/messages/` of the archive bucket, found by
 * partition projection (no crawler, no MSCK REPAIR: every chat_type/dt/hour is computed from the
 * query's filters), and an Athena workgroup that cancels a query past a bytes-scanned limit and keeps
 * its results in a bucket of their own, deleted after ATHENA_RESULTS_DAYS.
 *
 * Why not a prefix of the archive bucket: that bucket is write-once (S3 Object Lock with a default
 * retention), so every result file would be locked for RETENTION_DAYS and no lifecycle rule could
 * remove it. The results bucket has no lock and no versioning: expiring a result deletes it.
 *
 * The API function searches through it (im-core's AthenaSearches: StartQueryExecution with the
 * search SQL's `?` values as ExecutionParameters, GetQueryResults with NextToken as the cursor); its
 * IAM (infra/functions.ts) is limited to this workgroup, this database and table, the table's files
 * and the results bucket. The column list is the contract of SPEC.md "Message table"; chat_type, dt
 * and hour are the partitions (their values also in the files).
 */
export function messageTable(settings: Settings, { bucket }: { bucket: sst.aws.Bucket }) {
  const database = new aws.glue.CatalogDatabase("MessagesDatabase", {
    name: `imvault_${$app.stage.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}`,
    description: "imvault: the archived messages, one row each (derived from raw/, rebuilt at will)",
  });
  const location = $interpolate`s3://${bucket.name}/${TABLE_PREFIX}`;
  const table = new aws.glue.CatalogTable("MessagesTable", {
    databaseName: database.name,
    name: "messages",
    tableType: "EXTERNAL_TABLE",
    parameters: {
      EXTERNAL: "TRUE",
      classification: "parquet",
      "projection.enabled": "true",
      "projection.chat_type.type": "enum",
      "projection.chat_type.values": "C2C,Group",
      // Beijing dates, as the files are laid out; a day ahead of UTC's now at most.
      "projection.dt.type": "date",
      "projection.dt.format": "yyyy-MM-dd",
      "projection.dt.range": "2015-01-01,NOW+1DAYS",
      "projection.dt.interval": "1",
      "projection.dt.interval.unit": "DAYS",
      "projection.hour.type": "integer",
      "projection.hour.range": "0,23",
      "projection.hour.digits": "2",
      "storage.location.template": $interpolate`${location}chat_type=\${chat_type}/dt=\${dt}/hour=\${hour}/`,
    },
    // Strings, as DuckDB reads them from the paths locally: the same SQL and row shapes in both.
    partitionKeys: [
      { name: "chat_type", type: "string" },
      { name: "dt", type: "string" },
      { name: "hour", type: "string" },
    ],
    storageDescriptor: {
      location,
      inputFormat: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
      outputFormat: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
      serDeInfo: { serializationLibrary: "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe" },
      columns: [
        { name: "msg_time", type: "string" },
        { name: "msg_timestamp", type: "bigint" },
        { name: "ts", type: "timestamp" },
        { name: "from_account", type: "string" },
        { name: "to_account", type: "string" },
        { name: "group_id", type: "string" },
        { name: "conversation", type: "string" },
        { name: "msg_seq", type: "bigint" },
        { name: "msg_random", type: "bigint" },
        { name: "msg_types", type: "array<string>" },
        { name: "text", type: "string" },
        { name: "media_urls", type: "array<string>" },
        { name: "raw", type: "string" },
        { name: "source_key", type: "string" },
        { name: "line", type: "bigint" },
      ],
    },
  });

  const results = new sst.aws.Bucket("SearchResults", {
    enforceHttps: true,
    cors: false,
    // Nothing in it outlives ATHENA_RESULTS_DAYS: removing the stage may empty it.
    transform: { bucket: { forceDestroy: true } },
  });
  new aws.s3.BucketServerSideEncryptionConfiguration("SearchResultsEncryption", {
    bucket: results.name,
    rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
  });
  new aws.s3.BucketLifecycleConfiguration("SearchResultsLifecycle", {
    bucket: results.name,
    rules: [
      {
        id: "expire-search-results",
        status: "Enabled",
        filter: { prefix: "" },
        expiration: { days: settings.athenaResultsDays },
        abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
      },
    ],
  });

  const workgroup = new aws.athena.Workgroup("MessagesWorkgroup", {
    name: `imvault-${$app.stage}`,
    description: "imvault: searches of the message table (the API's POST /v1/searches)",
    forceDestroy: true,
    configuration: {
      // Every query in it uses these settings, whatever its caller asks for.
      enforceWorkgroupConfiguration: true,
      publishCloudwatchMetricsEnabled: true,
      // A search that would read more than this is cancelled (and billed only for what it read).
      bytesScannedCutoffPerQuery: settings.athenaScanLimitGb * 1024 ** 3,
      resultConfiguration: {
        outputLocation: $interpolate`s3://${results.name}/${RESULTS_PREFIX}`,
        encryptionConfiguration: { encryptionOption: "SSE_S3" },
      },
    },
  });

  // What the API function reads at run time (@imvault/runtime's loadAthenaConfig).
  const link = new sst.Linkable("MessageTable", {
    properties: { database: database.name, workgroup: workgroup.name },
  });
  return { database, table, workgroup, results, link };
}

/** The table's files in the archive bucket (im-core's TABLE_PREFIX). */
export const TABLE_PREFIX = "tables/messages/";
/** Where the workgroup writes results in the results bucket. */
export const RESULTS_PREFIX = "searches/";

export type MessageTable = ReturnType<typeof messageTable>;
