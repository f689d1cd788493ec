/// <reference path="../.sst/platform/config.d.ts" />

/**
 * The message table in AWS: a Glue table over `tables/messages/` of the archive bucket, found by
 * partition projection (no crawler, no MSCK REPAIR: every chat_type/dt/hour is computed from the
 * query's filters), and an Athena workgroup that refuses a query past a bytes-scanned limit and
 * keeps its results under `athena-results/` of the same bucket (expire them with a rule in the
 * bucket's one lifecycle configuration, ArchiveLifecycle, when this is wired: S3 takes only one).
 *
 * Not wired yet: sst.config.ts calls `messageTable(bucket)` in run() once the Athena adapter of
 * im-core's SearchService exists (StartQueryExecution with the search SQL's `?` parameters as
 * ExecutionParameters, GetQueryResults with NextToken as the cursor). The column list is the
 * contract of SPEC.md "Message table"; chat_type, dt and hour are the partitions (also in the files).
 */
export function messageTable(bucket: { name: $util.Input<string>; arn: $util.Input<string> }) {
  const database = new aws.glue.CatalogDatabase("MessagesDatabase", {
    name: `imvault_${$app.stage.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}`,
  });
  const location = $interpolate`s3://${bucket.name}/tables/messages/`;
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
      "projection.dt.type": "date",
      "projection.dt.format": "yyyy-MM-dd",
      "projection.dt.range": "2015-01-01,NOW+1DAYS",
      "projection.dt.interval": "1",
      "projection.dt.interval.unit": "DAYS",
      "projection.hour.type": "enum",
      "projection.hour.values": Array.from({ length: 24 }, (_, h) => String(h).padStart(2, "0")).join(","),
      "storage.location.template": $interpolate`s3://${bucket.name}/tables/messages/chat_type=\${chat_type}/dt=\${dt}/hour=\${hour}/`,
    },
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
  const workgroup = new aws.athena.Workgroup("MessagesWorkgroup", {
    name: `imvault-${$app.stage}`,
    forceDestroy: true,
    configuration: {
      enforceWorkgroupConfiguration: true,
      publishCloudwatchMetricsEnabled: true,
      // A search that would read more than this is cancelled (and billed only for what it read).
      bytesScannedCutoffPerQuery: 10 * 1024 ** 3,
      resultConfiguration: {
        outputLocation: $interpolate`s3://${bucket.name}/athena-results/`,
        encryptionConfiguration: { encryptionOption: "SSE_S3" },
      },
    },
  });
  return { database, table, workgroup };
}
