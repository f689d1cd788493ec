/// <reference path="./.sst/platform/config.d.ts" />

/**
 * imvault's AWS infrastructure (SST v3+/v4 syntax).
 *
 *   CronV2 (hourly, :05) ─► Scheduler fn ─► SQS JobQueue ─(5 receives)─► JobDlq
 *                                              │ batch, partial responses, max concurrency
 *                                              ▼
 *                                          Archiver fn ─► S3 ArchiveStore bucket (raw/…, manifests/…)
 *   API Gateway HTTP API (throttled) ─► ApiHandler fn ─► S3 (read + presign), Tencent get_cos_sig
 *   CloudWatch alarms ─► SNS Alerts topic (─► optional e-mail); one dashboard.
 *
 * Deploy-time settings come from the shell or from `.env.<stage>` (SST loads it), with the same names
 * as the local environment (SPEC "Environment"): IM_SDKAPPID (required), IM_ADMIN, IM_REGION,
 * IM_BASE_URL, IM_RATE_LIMIT, LOOKBACK_HOURS, SETTLE_HOURS, IM_DOWNLOAD_HOSTS, COS_URL_HOSTS, plus
 * ALERT_EMAIL, RAW_COLD_AFTER_DAYS, NONCURRENT_VERSION_DAYS. Secrets are never read here: they are
 * `sst.Secret`s set with `npx sst secret set … --stage <stage>`. See README.md, "Deploy to AWS".
 *
 * No top-level imports: SST evaluates this file itself, so everything lives in app() and run().
 */
export default $config({
  app(input) {
    const production = ["production", "prod"].includes(input?.stage ?? "");
    return {
      name: "imvault",
      home: "aws",
      // Production keeps the bucket (the archive) when the stage is removed, and refuses `sst remove`.
      removal: production ? "retain" : "remove",
      protect: production,
    };
  },

  async run() {
    const env = process.env;
    const production = ["production", "prod"].includes($app.stage);

    // ---- deploy-time settings (validated here so a typo fails the deploy, not the first cold start)
    const REGIONS = ["cn", "sgp", "kr", "jpn", "ger", "usa", "idn", "ind"]; // = im-core REGIONS keys
    const int = (name: string, fallback: number, min: number, max: number): number => {
      const raw = env[name]?.trim();
      const value = raw ? Number(raw) : fallback;
      if (!Number.isInteger(value) || value < min || value > max) {
        throw new Error(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
      }
      return value;
    };
    if (!env.IM_SDKAPPID?.trim()) {
      throw new Error(
        "Set IM_SDKAPPID (your Tencent IM SDKAppID) in the shell or .env.<stage> before deploying",
      );
    }
    const sdkAppId = int("IM_SDKAPPID", 0, 1, 2 ** 53 - 1);
    const region = env.IM_REGION?.trim() || "cn";
    if (!REGIONS.includes(region)) throw new Error(`IM_REGION must be one of ${REGIONS.join(", ")}`);
    const appRateLimit = int("IM_RATE_LIMIT", 10, 2, 1000); // Tencent's calls/s for the whole app
    const lookbackHours = int("LOOKBACK_HOURS", 72, 1, 24 * 30);
    const settleHours = int("SETTLE_HOURS", 6, 0, lookbackHours - 1);
    const rawColdAfterDays = int("RAW_COLD_AFTER_DAYS", 30, 1, 3650);
    const noncurrentVersionDays = int("NONCURRENT_VERSION_DAYS", 90, 1, 3650);

    // ---- sizing of the archive path (the numbers the rest is derived from)
    const ARCHIVE_TIMEOUT_S = 15 * 60; // the Lambda maximum: one batch of hours must fit in it
    const BATCH_SIZE = 2; // the schedule sends an hour's C2C and Group jobs together
    const BATCH_WINDOW_S = 10;
    // AWS: visibility timeout >= 6 x function timeout (+ the batching window), so a message is not
    // redelivered while an invocation that holds it (with Lambda's own retries) is still running.
    // Side effect: a job reported failed (partial batch response) is received again only when this
    // timeout runs out, unless the handler shortens it (ChangeMessageVisibility, which it may call).
    const VISIBILITY_TIMEOUT_S = 6 * ARCHIVE_TIMEOUT_S + BATCH_WINDOW_S;
    // Tencent's REST rate limit (default 10 calls/s, SPEC) is per app, across every caller. Each
    // Lambda instance paces its own Tencent calls (IM client rate limiter at ImApp.rateLimit), so the
    // app-wide rate is at most (concurrent archive instances) x (per-instance rate). The SQS event
    // source caps concurrent archive invocations at ARCHIVE_MAX_CONCURRENCY (2 is the smallest value
    // AWS accepts), and each instance gets an equal share: 2 x floor(10 / 2) = 10 calls/s. A job makes
    // ~1 get_history call plus seconds to minutes of downloads (COS, not rate-limited), so 2 workers
    // drain a 72 h x 2 chat-type backlog (144 jobs; ~6 min at ~5 s a job) within the limit.
    // The schedule function never calls Tencent; the API's get_cos_sig calls are bounded by the
    // API Gateway throttle below.
    const ARCHIVE_MAX_CONCURRENCY = 2;
    const perInstanceRate = Math.floor(appRateLimit / ARCHIVE_MAX_CONCURRENCY);

    // Component names must be unique among SST components (SST checks, case-insensitively), and
    // packages/runtime/src/settings.ts reads the linked ones by name: ArchiveBucket, Jobs, ImApp, ImSecretKey, ApiKeys.

    // ---- storage
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
        bucket: { forceDestroy: !production },
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
          transitions: [{ days: rawColdAfterDays, storageClass: "GLACIER_IR" }],
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
          noncurrentVersionExpiration: { noncurrentDays: noncurrentVersionDays },
          expiration: { expiredObjectDeleteMarker: true },
        },
      ],
    });

    // ---- queue
    const dlq = new sst.aws.Queue("JobDlq", {
      transform: { queue: { messageRetentionSeconds: 14 * 24 * 3600 } }, // the SQS maximum
    });
    const queue = new sst.aws.Queue("JobQueue", {
      visibilityTimeout: `${VISIBILITY_TIMEOUT_S} seconds`,
      dlq: { queue: dlq.arn, retry: 5 },
    });

    // ---- what the functions read at run time (packages/runtime/src/settings.ts). Linkables carry values only;
    // IAM is granted per function below, so each gets only the actions it uses (a linked
    // sst.aws.Bucket/Queue would grant s3:* / sqs:*).
    const archiveBucket = new sst.Linkable("ArchiveBucket", { properties: { name: bucket.name } });
    const jobs = new sst.Linkable("Jobs", { properties: { url: queue.url } });
    const imApp = new sst.Linkable("ImApp", {
      properties: {
        sdkAppId,
        admin: env.IM_ADMIN?.trim() || "administrator",
        region,
        baseUrl: env.IM_BASE_URL?.trim() ?? "", // "" = the region's domains
        rateLimit: perInstanceRate, // calls/s for ONE instance (see ARCHIVE_MAX_CONCURRENCY)
        lookbackHours,
        settleHours,
        maxAttemptsPerFile: 5,
        downloadHosts: env.IM_DOWNLOAD_HOSTS?.trim() ?? "", // "" = SPEC's default allow-list
        cosUrlHosts: env.COS_URL_HOSTS?.trim() ?? "", // "" = *.myqcloud.com + download hosts
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

    // ---- functions
    const scheduleFn = new sst.aws.Function("Scheduler", {
      ...common,
      handler: "packages/functions/src/schedule.handler",
      description: "imvault: plan the hours still missing a manifest and enqueue their jobs",
      timeout: "2 minutes",
      memory: "512 MB",
      environment: { ...common.environment, POWERTOOLS_SERVICE_NAME: "schedule" },
      link: [archiveBucket, jobs, imApp],
      permissions: [
        listBucket,
        { actions: ["s3:GetObject"], resources: objects("manifests/") },
        { actions: ["sqs:SendMessage"], resources: [queue.arn] }, // SendMessageBatch included
      ],
    });

    const archiveFn = new sst.aws.Function("Archiver", {
      ...common,
      handler: "packages/functions/src/archive.handler",
      description: "imvault: archive one hour of one chat type (SQS consumer)",
      timeout: `${ARCHIVE_TIMEOUT_S} seconds`,
      // 1769 MB = one full vCPU: MD5 of the gzip and of the plain bytes plus gunzip run in one pass
      // over a stream, so memory stays small while CPU decides the speed.
      memory: "1769 MB",
      environment: { ...common.environment, POWERTOOLS_SERVICE_NAME: "archive" },
      link: [archiveBucket, imSecretKey, imApp],
      permissions: [
        listBucket,
        {
          actions: ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
          resources: objects("raw/", "manifests/"),
        },
        {
          // Before an hour's manifest exists, the archiver removes a file that failed verification
          // and strays an interrupted run left under the hour; manifests are never deleted.
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
      ],
    });

    const apiFn = new sst.aws.Function("ApiHandler", {
      ...common,
      handler: "packages/functions/src/api.handler",
      description: "imvault: HTTP API (cos-sig lookups, archive manifests, status)",
      timeout: "28 seconds", // under API Gateway's 30 s integration limit: answer 504 ourselves
      memory: "1024 MB",
      environment: { ...common.environment, POWERTOOLS_SERVICE_NAME: "api" },
      link: [archiveBucket, imSecretKey, apiKeys, imApp],
      permissions: [listBucket, { actions: ["s3:GetObject"], resources: objects("manifests/", "raw/") }],
    });

    queue.subscribe(archiveFn.arn, {
      batch: { size: BATCH_SIZE, window: `${BATCH_WINDOW_S} seconds`, partialResponses: true },
      transform: {
        eventSourceMapping: { scalingConfig: { maximumConcurrency: ARCHIVE_MAX_CONCURRENCY } },
      },
    });

    // ---- schedule: EventBridge Scheduler, five minutes past every hour (UTC; Beijing hours start on
    // the same instants). The function plans the whole lookback window, so a missed run is caught up
    // by the next one.
    new sst.aws.CronV2("Hourly", {
      schedule: "cron(5 * * * ? *)",
      function: scheduleFn,
      retries: 2,
    });

    // ---- HTTP API
    const api = new sst.aws.ApiGatewayV2("HttpApi", {
      cors: false,
      accessLog: { retention: "1 month" },
      transform: {
        // SST has no throttling option: set the $default stage's route defaults. Lookups are for
        // operators, not traffic; this also bounds the get_cos_sig calls made for them.
        stage: { defaultRouteSettings: { throttlingRateLimit: 5, throttlingBurstLimit: 10 } },
      },
    });
    for (const route of [
      "POST /v1/cos-sig",
      "GET /v1/archive/{chatType}/{msgTime}",
      "GET /v1/status",
      "GET /v1/health",
      "GET /v1/openapi.json",
    ]) {
      api.route(route, apiFn.arn);
    }

    // ---- operations: alarms to an SNS topic, optional e-mail subscription
    const alerts = new sst.aws.SnsTopic("Alerts");
    const alertEmail = env.ALERT_EMAIL?.trim();
    if (alertEmail) {
      new aws.sns.TopicSubscription("AlertsEmail", {
        topic: alerts.arn,
        protocol: "email",
        endpoint: alertEmail,
      });
    }
    const notify = { alarmActions: [alerts.arn], okActions: [alerts.arn] };
    const prefix = `imvault-${$app.stage}`;
    // Custom metrics come from Powertools EMF, which adds its own dimensions (service, …); a Metrics
    // Insights query sums a metric over every dimension set, so the alarm does not depend on them.
    const insights = (metric: string, period: number) => [
      { id: "m", expression: `SELECT SUM(${metric}) FROM imvault`, period, returnData: true },
    ];
    const above0 = { comparisonOperator: "GreaterThanThreshold", threshold: 0, evaluationPeriods: 1 };

    new aws.cloudwatch.MetricAlarm("DlqNotEmptyAlarm", {
      name: `${prefix}-dlq-not-empty`,
      alarmDescription: "Jobs failed 5 times and sit in the DLQ: read the archive logs, fix, redrive.",
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: dlq.nodes.queue.name },
      statistic: "Maximum",
      period: 300,
      ...above0,
      // SQS stops reporting a queue that has been idle for 6 h: keep the last state instead of
      // letting a still-full DLQ drift back to OK.
      treatMissingData: "ignore",
      ...notify,
    });
    new aws.cloudwatch.MetricAlarm("HoursExpiredAlarm", {
      name: `${prefix}-hours-expired`,
      alarmDescription: "Tencent answered 1005 (file expired): an hour of history is lost for good.",
      metricQueries: insights("HoursExpired", 3600),
      ...above0,
      treatMissingData: "notBreaching",
      ...notify,
    });
    new aws.cloudwatch.MetricAlarm("HoursMissingPastSettleAlarm", {
      name: `${prefix}-hours-missing-past-settle`,
      alarmDescription: "Hours older than the settle window still have no manifest: archiving is behind.",
      metricQueries: insights("HoursMissingPastSettle", 3600),
      ...above0,
      treatMissingData: "notBreaching",
      ...notify,
    });
    new aws.cloudwatch.MetricAlarm("ArchiveFailuresAlarm", {
      name: `${prefix}-archive-failures`,
      alarmDescription: "An archive job failed (it will be retried; 5 failures send it to the DLQ).",
      metricQueries: insights("ArchiveFailures", 300),
      ...above0,
      treatMissingData: "notBreaching",
      ...notify,
    });
    new aws.cloudwatch.MetricAlarm("ArchiveErrorsAlarm", {
      name: `${prefix}-archive-function-errors`,
      alarmDescription: "The archive function crashed or timed out (not a handled job failure).",
      namespace: "AWS/Lambda",
      metricName: "Errors",
      dimensions: { FunctionName: archiveFn.name },
      statistic: "Sum",
      period: 300,
      ...above0,
      treatMissingData: "notBreaching",
      ...notify,
    });
    new aws.cloudwatch.MetricAlarm("ScheduleErrorsAlarm", {
      name: `${prefix}-schedule-function-errors`,
      alarmDescription: "The hourly planning run failed: no new jobs are being enqueued.",
      namespace: "AWS/Lambda",
      metricName: "Errors",
      dimensions: { FunctionName: scheduleFn.name },
      statistic: "Sum",
      period: 3600,
      ...above0,
      treatMissingData: "notBreaching",
      ...notify,
    });
    new aws.cloudwatch.MetricAlarm("ScheduleNotRunningAlarm", {
      name: `${prefix}-schedule-not-running`,
      alarmDescription: "The schedule function was not invoked for 2 hours: the scheduler is off or broken.",
      namespace: "AWS/Lambda",
      metricName: "Invocations",
      dimensions: { FunctionName: scheduleFn.name },
      statistic: "Sum",
      period: 3600,
      evaluationPeriods: 2,
      comparisonOperator: "LessThanThreshold",
      threshold: 1,
      treatMissingData: "breaching", // no data is exactly the failure this alarm is for
      ...notify,
    });

    // ---- dashboard
    const q = (metric: string, id: string, period = 3600) => ({
      expression: `SELECT SUM(${metric}) FROM imvault`,
      id,
      label: metric,
      period,
    });
    const widget = (
      x: number,
      y: number,
      title: string,
      metrics: unknown[],
      stat = "Sum",
      period = 3600,
    ) => ({
      type: "metric",
      x,
      y,
      width: 12,
      height: 6,
      properties: {
        title,
        metrics,
        view: "timeSeries",
        stacked: false,
        stat,
        period,
        region: aws.getRegionOutput().region,
      },
    });
    new aws.cloudwatch.Dashboard("Dashboard", {
      dashboardName: prefix,
      dashboardBody: $jsonStringify({
        widgets: [
          widget(0, 0, "Hours per outcome (sum per hour)", [
            [q("HoursArchived", "a")],
            [q("HoursEmpty", "e")],
            [q("HoursPending", "p")],
            [q("HoursExpired", "x")],
            [q("HoursMissingPastSettle", "m")],
          ]),
          widget(12, 0, "Bytes and files archived", [[q("BytesArchived", "b")], [q("FilesArchived", "f")]]),
          widget(
            0,
            6,
            "Failures",
            [
              [q("ArchiveFailures", "af", 300)],
              ["AWS/Lambda", "Errors", "FunctionName", archiveFn.name, { label: "archive errors" }],
              ["AWS/Lambda", "Errors", "FunctionName", scheduleFn.name, { label: "schedule errors" }],
              [
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                "QueueName",
                dlq.nodes.queue.name,
                { label: "DLQ depth", stat: "Maximum" },
              ],
            ],
            "Sum",
            300,
          ),
          widget(
            12,
            6,
            "API requests by status",
            [[{ expression: "SELECT SUM(ApiRequests) FROM imvault GROUP BY Status", id: "r", period: 300 }]],
            "Sum",
            300,
          ),
          widget(
            0,
            12,
            "Job queue",
            [
              [
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                "QueueName",
                queue.nodes.queue.name,
                { label: "waiting" },
              ],
              [
                "AWS/SQS",
                "ApproximateAgeOfOldestMessage",
                "QueueName",
                queue.nodes.queue.name,
                { label: "oldest (s)" },
              ],
              [q("JobsEnqueued", "j", 300)],
            ],
            "Maximum",
            300,
          ),
        ],
      }),
    });

    return {
      api: api.url,
      bucket: bucket.name,
      scheduleFunction: scheduleFn.name,
      archiveFunction: archiveFn.name,
      alertsTopic: alerts.arn,
    };
  },
});
