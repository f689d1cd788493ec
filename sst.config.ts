/// <reference path="./.sst/platform/config.d.ts" />

/**
 * imvault's AWS infrastructure (SST v3+/v4 syntax), one file per concern under infra/:
 *
 *   CronV2 (hourly, :05) ─► Scheduler fn ─► SQS JobQueue ─(5 receives)─► JobDlq
 *                                              │ batch, partial responses, max concurrency
 *                                              ▼
 *                                          Archiver fn ─► S3 ArchiveStore bucket (raw/…, manifests/…,
 *                                           (history and media jobs)     media/…, media-manifests/…)
 *   API Gateway HTTP API (throttled) ─► ApiHandler fn ─► S3 (read + presign), Tencent get_cos_sig,
 *                                                        Athena (searches: Glue table over tables/messages/)
 *   CloudWatch alarms ─► SNS Alerts topic (─► optional e-mail); one dashboard.
 *
 *   infra/settings.ts   deploy-time settings, validated; how the archive path is sized
 *   infra/storage.ts    the archive bucket, its encryption and lifecycle
 *   infra/queue.ts      the job queue and its dead-letter queue
 *   infra/query.ts      the message table in Glue (partition projection), the Athena workgroup, its results bucket
 *   infra/functions.ts  the three Lambdas, their links and IAM, the hourly schedule, the queue's consumer
 *   infra/api.ts        API Gateway (HTTP API), routes, throttling
 *   infra/alarms.ts     CloudWatch alarms, the Alerts topic, the dashboard
 *
 * Deploy-time settings come from the shell or from `.env.<stage>` (SST loads it), with the same names
 * as the local environment (SPEC "Environment"): IM_SDKAPPID (required), IM_ADMIN, IM_REGION,
 * IM_BASE_URL, IM_RATE_LIMIT, LOOKBACK_HOURS, SETTLE_HOURS, IM_MEDIA_RETENTION_DAYS,
 * IM_MEDIA_CONCURRENCY, IM_DOWNLOAD_HOSTS, COS_URL_HOSTS, plus ALERT_EMAIL, RAW_COLD_AFTER_DAYS,
 * NONCURRENT_VERSION_DAYS, ATHENA_SCAN_LIMIT_GB, ATHENA_RESULTS_DAYS. Secrets are never read here: they
 * are `sst.Secret`s set with `npx sst secret set … --stage <stage>`. See README.md, "Deploy to AWS".
 *
 * No top-level imports: SST loads the provider packages itself and asks for none here, so infra/ is
 * imported inside run() (SST bundles those imports with this file). The infra/ files export
 * functions, not resources, so each call of run() creates every resource anew.
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
    const { loadSettings } = await import("./infra/settings");
    const { storage } = await import("./infra/storage");
    const { queues } = await import("./infra/queue");
    const { messageTable } = await import("./infra/query");
    const { functions } = await import("./infra/functions");
    const { httpApi } = await import("./infra/api");
    const { alarms } = await import("./infra/alarms");

    const settings = loadSettings($app.stage);
    const { bucket } = storage(settings);
    const { queue, dlq } = queues();
    const query = messageTable(settings, { bucket });
    const { scheduleFn, archiveFn, apiFn, signingKey } = functions(settings, { bucket }, { queue }, query);
    const { api } = httpApi(apiFn);
    const { alerts } = alarms(settings, { queue, dlq, scheduleFn, archiveFn });

    return {
      api: api.url,
      bucket: bucket.name,
      scheduleFunction: scheduleFn.name,
      archiveFunction: archiveFn.name,
      alertsTopic: alerts.arn,
      // DIGEST_KMS_KEY_ID for `imvault key export` / `verify` on the bucket (docs/evidence.md).
      digestKey: signingKey.arn,
      // Searches in the Athena console or CLI (README "Query the archive in AWS (Athena)").
      searchWorkgroup: query.workgroup.name,
      messagesDatabase: query.database.name,
    };
  },
});
