import { type MessageTable, RESULTS_PREFIX, TABLE_PREFIX } from "./query";
import { ARCHIVE, type Settings } from "./settings";

/**
 * The three Lambda functions, what they read at run time, and what starts them: the hourly schedule
 * and the job queue's event source. Each function gets only the IAM actions it uses. The scheduler
 * also seals the hourly digest (docs/evidence.md) with the digest signing key, which only it may use.
 */
export function functions(
  settings: Settings,
  { bucket }: { bucket: sst.aws.Bucket },
  { queue }: { queue: sst.aws.Queue },
  query: MessageTable,
) {
  // What the functions read at run time (@imvault/runtime's settings, by these names). Linkables
  // carry values only; IAM is granted per function below (a linked sst.aws.Bucket/Queue would grant
  // s3:* / sqs:*). Component names must be unique among SST components, case-insensitively.
  const archiveBucket = new sst.Linkable("ArchiveBucket", {
    properties: {
      name: bucket.name,
      // Each object is put locked until its hour's end plus these days (S3 Object Lock).
      retentionMode: settings.retentionMode,
      retentionDays: settings.retentionDays,
    },
  });
  const signing = digestSigningKey();
  const digestKey = new sst.Linkable("DigestKey", { properties: { keyId: signing.key.arn } });
  const jobs = new sst.Linkable("Jobs", { properties: { url: queue.url } });
  const imApp = new sst.Linkable("ImApp", {
    properties: {
      sdkAppId: settings.sdkAppId,
      admin: settings.admin,
      region: settings.region,
      baseUrl: settings.baseUrl,
      rateLimit: settings.perInstanceRate,
      lookbackHours: settings.lookbackHours,
      settleHours: settings.settleHours,
      maxAttemptsPerFile: settings.maxAttemptsPerFile,
      mediaRetentionDays: settings.mediaRetentionDays,
      mediaConcurrency: settings.mediaConcurrency,
      downloadHosts: settings.downloadHosts,
      cosUrlHosts: settings.cosUrlHosts,
    },
  });
  const imSecretKey = new sst.Secret("ImSecretKey");
  const apiKeys = new sst.Secret("ApiKeys");

  const objects = (...prefixes: string[]) => prefixes.map((p) => $interpolate`${bucket.arn}/${p}*`);
  // ListBucket on the bucket itself: without it a HEAD of a missing key answers 403, not 404.
  const listBucket = { actions: ["s3:ListBucket"], resources: [bucket.arn] };
  const common = {
    runtime: "nodejs24.x" as const,
    architecture: "arm64" as const,
    logging: { retention: "1 month" as const },
    environment: { POWERTOOLS_METRICS_NAMESPACE: "imvault" },
    // SST bundles each handler with esbuild; scripts/bundle.ts (`npm run build`, measured by
    // `npm run bench:api`) uses the same options. The AWS SDK v3 is left to the nodejs24.x runtime
    // (why, and the version trade-off: scripts/bundle.ts). Keep this list equal to RUNTIME_PROVIDED
    // there (scripts/bundle.test.ts checks).
    nodejs: { format: "esm" as const, minify: true, esbuild: { external: ["@aws-sdk/*", "@smithy/*"] } },
  };

  const scheduleFn = new sst.aws.Function("Scheduler", {
    ...common,
    handler: "packages/functions/src/schedule.handler",
    description:
      "imvault: plan the hours still missing a manifest or their media, enqueue their jobs, seal the hourly digest",
    // An hourly digest reads no raw file now that manifests record gzipSha256, but the first digests
    // over an archive whose manifests predate it hash their raw files (up to 5000 manifests a digest).
    timeout: "10 minutes",
    memory: "512 MB",
    environment: { ...common.environment, POWERTOOLS_SERVICE_NAME: "schedule" },
    link: [archiveBucket, jobs, imApp, digestKey],
    // Media jobs are planned from listings alone (ListBucket on media-manifests/); sealing reads what
    // it seals.
    permissions: [
      listBucket,
      {
        // What a digest seals (and the raw files it hashes), the digests, the head hint.
        actions: ["s3:GetObject"],
        resources: objects(
          "manifests/",
          "media-manifests/",
          "tables/",
          "holds/",
          "raw/",
          "digests/",
          "digests-state/",
        ),
      },
      {
        // Digests are put create-only and locked (their retention header needs PutObjectRetention).
        actions: ["s3:PutObject", "s3:PutObjectRetention"],
        resources: objects("digests/", "digests-state/"),
      },
      // kms:Sign also needs the key's policy, which allows it to this role alone.
      { actions: ["kms:Sign", "kms:GetPublicKey"], resources: [signing.key.arn] },
      { actions: ["sqs:SendMessage"], resources: [queue.arn] }, // SendMessageBatch included
    ],
  });
  signing.allowSigning(scheduleFn.nodes.role.arn);

  const archiveFn = new sst.aws.Function("Archiver", {
    ...common,
    handler: "packages/functions/src/archive.handler",
    description:
      "imvault: archive one hour of one chat type, capture its media, or run an export (SQS consumer)",
    // The verifier's worker thread is a module of its own, beside the handler's bundle; `npm run
    // build` (scripts/bundle.ts) makes it. Without it the archiver verifies on its own thread only.
    copyFiles: [{ from: "dist/functions/plain-worker.mjs", to: "plain-worker.mjs" }],
    // Media jobs too: a big hour's media that do not fit in one invocation stop at the handler's
    // deadline signal, leaving no media manifest; the retry skips every object already stored.
    timeout: `${ARCHIVE.timeoutSeconds} seconds`,
    // 1769 MB = one full vCPU: MD5 of the gzip and of the plain bytes plus gunzip run in one pass
    // over a stream, so memory stays small while CPU decides the speed.
    memory: "1769 MB",
    environment: { ...common.environment, POWERTOOLS_SERVICE_NAME: "archive" },
    // MessageTable: export jobs (POST /v1/exports) read their rows through Athena.
    link: [archiveBucket, imSecretKey, imApp, query.link],
    permissions: [
      listBucket,
      {
        // manifests-corrupt/: a corrupt manifest's bytes are kept there before the hour's fresh one.
        // PutObjectRetention: each put carries its Object Lock retention.
        actions: ["s3:GetObject", "s3:PutObject", "s3:PutObjectRetention", "s3:AbortMultipartUpload"],
        resources: objects("raw/", "manifests/", "manifests-corrupt/"),
      },
      {
        // Media jobs: the objects (create-only), their index entries, the hour's media manifest. No
        // delete: nothing under these prefixes is ever removed.
        actions: ["s3:GetObject", "s3:PutObject", "s3:PutObjectRetention", "s3:AbortMultipartUpload"],
        resources: objects("media/", "media-index/", "media-manifests/"),
      },
      {
        // The message table: each archived hour's Parquet files, written after its commit.
        actions: ["s3:GetObject", "s3:PutObject", "s3:PutObjectRetention", "s3:AbortMultipartUpload"],
        resources: objects("tables/"),
      },
      {
        // Raw files are written create-only; once an hour's manifest is committed, the archiver
        // removes what dead attempts left under the hour that the manifest does not name. Nothing a
        // manifest names, and no manifest, is ever deleted.
        actions: ["s3:DeleteObject"],
        resources: objects("raw/"),
      },
      {
        // what an SQS event source needs from its function's role
        actions: [
          "sqs:ReceiveMessage",
          "sqs:DeleteMessage",
          "sqs:ChangeMessageVisibility",
          "sqs:GetQueueAttributes",
        ],
        resources: [queue.arn],
      },
      {
        // Export jobs: the request (written by the API), the zip, then status.json last; each put
        // locked for the few days exports are kept (retention.ts), which needs PutObjectRetention.
        actions: ["s3:GetObject", "s3:PutObject", "s3:PutObjectRetention", "s3:AbortMultipartUpload"],
        resources: objects("exports/"),
      },
      // ... and their rows, from the message table through Athena, as the API's searches read them.
      ...searchPermissions(bucket, query),
    ],
  });

  const apiFn = new sst.aws.Function("ApiHandler", {
    ...common,
    handler: "packages/functions/src/api.handler",
    description:
      "imvault: HTTP API (cos-sig lookups, archive manifests, media, status, message searches, exports)",
    timeout: "28 seconds", // under API Gateway's 30 s integration limit: answer 504 ourselves
    memory: "1024 MB",
    environment: { ...common.environment, POWERTOOLS_SERVICE_NAME: "api" },
    // Jobs: POST /v1/exports puts an export job on the job queue.
    link: [archiveBucket, imSecretKey, apiKeys, imApp, query.link, jobs],
    // GetObject on media/ signs /v1/media's download URLs; media-index/ holds an object's facts,
    // media-manifests/ the hour's media for /v1/archive and /v1/status; digests/, digests-state/ and
    // digests-verified/ the chain's head and the last verification.
    permissions: [
      listBucket,
      {
        actions: ["s3:GetObject"],
        resources: objects(
          "manifests/",
          "raw/",
          "media/",
          "media-index/",
          "media-manifests/",
          "digests/",
          "digests-state/",
          "digests-verified/",
        ),
      },
      ...searchPermissions(bucket, query),
      // Exports: POST /v1/exports records the request and queues its job; GET /v1/exports/{id}
      // reads the request, the status and signs the zip's URL.
      {
        actions: ["s3:PutObject", "s3:PutObjectRetention"],
        resources: [$interpolate`${bucket.arn}/exports/*/request.json`],
      },
      { actions: ["s3:GetObject"], resources: objects("exports/") },
      { actions: ["sqs:SendMessage"], resources: [queue.arn] },
    ],
  });

  queue.subscribe(archiveFn.arn, {
    batch: {
      size: ARCHIVE.batchSize,
      window: `${ARCHIVE.batchWindowSeconds} seconds`,
      partialResponses: true,
    },
    transform: {
      eventSourceMapping: { scalingConfig: { maximumConcurrency: ARCHIVE.maxConcurrency } },
    },
  });

  // EventBridge Scheduler, five minutes past every hour (UTC; Beijing hours start on the same
  // instants). The function plans the whole lookback window (and the media window), so a missed run
  // is caught up by the next.
  new sst.aws.CronV2("Hourly", {
    schedule: "cron(5 * * * ? *)",
    function: scheduleFn,
    retries: 2,
  });

  return { scheduleFn, archiveFn, apiFn, signingKey: signing.key };
}

/**
 * What a search needs (Athena runs it with the caller's permissions): the workgroup's query calls,
 * the table's definition in Glue (its catalog, database and table), the table's files, and the
 * results bucket, where Athena writes each result and GetQueryResults reads it back.
 */
function searchPermissions(bucket: sst.aws.Bucket, query: MessageTable) {
  const region = aws.getRegionOutput().region;
  const account = aws.getCallerIdentityOutput().accountId;
  return [
    {
      actions: ["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults"],
      resources: [query.workgroup.arn],
    },
    {
      actions: ["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"],
      resources: [
        $interpolate`arn:aws:glue:${region}:${account}:catalog`,
        query.database.arn,
        query.table.arn,
      ],
    },
    { actions: ["s3:GetObject"], resources: [$interpolate`${bucket.arn}/${TABLE_PREFIX}*`] },
    { actions: ["s3:GetBucketLocation"], resources: [bucket.arn, query.results.arn] },
    { actions: ["s3:ListBucket"], resources: [query.results.arn] },
    {
      actions: ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
      resources: [$interpolate`${query.results.arn}/${RESULTS_PREFIX}*`],
    },
  ];
}

/**
 * The digest signing key: an asymmetric KMS key (ECC_NIST_P256, SIGN_VERIFY; ECDSA_SHA_256 on a
 * digest's SHA-256). Its policy, attached once the scheduler's role exists, lets the account's
 * administrators manage it and read its public key but not sign, allows kms:Sign to the scheduler's
 * role, and denies kms:Sign to every other principal, whatever their IAM policies say.
 */
function digestSigningKey() {
  const key = new aws.kms.Key("DigestSigningKey", {
    description: `imvault ${$app.stage}: signs the archive's hourly digests (only the scheduler may sign)`,
    customerMasterKeySpec: "ECC_NIST_P256",
    keyUsage: "SIGN_VERIFY",
    deletionWindowInDays: 30,
  });
  const account = aws.getCallerIdentityOutput().accountId;
  const allowSigning = (schedulerRole: $util.Input<string>) =>
    new aws.kms.KeyPolicy("DigestSigningKeyPolicy", {
      keyId: key.id,
      policy: $jsonStringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "AdministerButNotSign",
            Effect: "Allow",
            Principal: { AWS: $interpolate`arn:aws:iam::${account}:root` },
            Action: [
              "kms:Create*",
              "kms:Describe*",
              "kms:Enable*",
              "kms:List*",
              "kms:Put*",
              "kms:Update*",
              "kms:Revoke*",
              "kms:Disable*",
              "kms:Get*",
              "kms:Delete*",
              "kms:TagResource",
              "kms:UntagResource",
              "kms:ScheduleKeyDeletion",
              "kms:CancelKeyDeletion",
              "kms:Verify",
            ],
            Resource: "*",
          },
          {
            Sid: "SchedulerSigns",
            Effect: "Allow",
            Principal: { AWS: schedulerRole },
            Action: "kms:Sign",
            Resource: "*",
            Condition: {
              StringEquals: { "kms:SigningAlgorithm": "ECDSA_SHA_256", "kms:MessageType": "DIGEST" },
            },
          },
          {
            Sid: "NobodyElseSigns",
            Effect: "Deny",
            Principal: { AWS: "*" },
            Action: "kms:Sign",
            Resource: "*",
            Condition: { ArnNotEquals: { "aws:PrincipalArn": schedulerRole } },
          },
        ],
      }),
    });
  return { key, allowSigning };
}
