import { existsSync, readFileSync } from "node:fs";
import { DEFAULTS, REGIONS, retainUntilFor, TABLE_PREFIX } from "@imvault/im-core";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import {
  allowed,
  DEPLOY_VARS,
  deployWith,
  importSstConfig,
  refs,
  renderSstEnv,
  resolved,
  type SstConfig,
  seconds,
} from "./sst-fakes.ts";

/*
 * Evaluates sst.config.ts (and the infra/ files its run() imports) against recording fakes of SST's
 * globals (SST has no dry run) and checks the wiring. The config is imported once (importSstConfig).
 */
const ROOT = new URL("../", import.meta.url);
let config: SstConfig;

beforeAll(async () => {
  config = await importSstConfig(new URL("sst.config.ts", ROOT));
});

beforeEach(() => {
  for (const name of DEPLOY_VARS) vi.stubEnv(name, undefined);
  vi.stubEnv("IM_SDKAPPID", "1400000001");
});
afterEach(() => {
  vi.unstubAllEnvs();
});

const deploy = (stage = "dev") => deployWith(config, stage);

const FN = "sst.aws.Function";

describe("sst.config.ts", () => {
  it("app(): production stages retain data and are protected; other stages are removed", () => {
    for (const stage of ["prod", "production"]) {
      expect(config.app({ stage })).toMatchObject({
        name: "imvault",
        home: "aws",
        removal: "retain",
        protect: true,
      });
    }
    for (const stage of ["dev", "ci", "staging"]) {
      expect(config.app({ stage })).toMatchObject({ removal: "remove", protect: false });
    }
  });

  it("links each function to exactly the resources its config loaders read", async () => {
    const { r } = await deploy();

    expect(refs(r.args(FN, "Scheduler").link)).toEqual([
      "sst.sst.Linkable:ArchiveBucket",
      "sst.sst.Linkable:DigestKey",
      "sst.sst.Linkable:ImApp",
      "sst.sst.Linkable:Jobs",
    ]);
    expect(refs(r.args(FN, "Archiver").link)).toEqual([
      "sst.sst.Linkable:ArchiveBucket",
      "sst.sst.Linkable:ImApp",
      "sst.sst.Linkable:MessageTable",
      "sst.sst.Secret:ImSecretKey",
    ]);
    expect(refs(r.args(FN, "ApiHandler").link)).toEqual([
      "sst.sst.Linkable:ArchiveBucket",
      "sst.sst.Linkable:ImApp",
      "sst.sst.Linkable:Jobs",
      "sst.sst.Linkable:MessageTable",
      "sst.sst.Secret:ApiKeys",
      "sst.sst.Secret:ImSecretKey",
    ]);
    // The value-only Linkables carry no IAM: the bucket and queue themselves are linked to nobody.
    for (const linkable of r.all("sst.sst.Linkable")) expect(linkable.args.include).toBeUndefined();
    expect(r.args("sst.sst.Linkable", "ArchiveBucket").properties).toEqual({
      name: "imvault-dev-archivestore-abc123",
      retentionMode: "governance",
      retentionDays: 1,
    });
    expect(r.args("sst.sst.Linkable", "Jobs").properties).toEqual({
      url: "https://sqs.eu-west-1.amazonaws.com/123456789012/JobQueue",
    });
    expect(r.args("sst.sst.Linkable", "MessageTable").properties).toEqual({
      database: "imvault_dev",
      workgroup: "imvault-dev",
    });
  });

  it("grants each function only the S3/SQS/KMS actions it uses (no wildcards; deletes only under raw/)", async () => {
    const { r } = await deploy();
    const bucket = "arn:aws:s3:::imvault-dev-archivestore-abc123";
    const queue = "arn:aws:sqs:eu-west-1:123456789012:JobQueue";
    const at = (...prefixes: string[]) => prefixes.map((p) => `${bucket}/${p}/*`).join(" ");
    const sealed = at("manifests", "media-manifests", "tables", "holds", "raw", "digests", "digests-state");
    const key = "arn:aws:kms:eu-west-1:123456789012:key/DigestSigningKey";

    expect(allowed(r, "Scheduler")).toEqual([
      `s3:ListBucket ${bucket}`,
      `s3:GetObject ${sealed}`,
      ...["s3:PutObject", "s3:PutObjectRetention"].map((a) => `${a} ${at("digests", "digests-state")}`),
      `kms:Sign ${key}`,
      `kms:GetPublicKey ${key}`,
      `sqs:SendMessage ${queue}`,
    ]);
    const written = at("raw", "manifests", "manifests-corrupt");
    const media = at("media", "media-index", "media-manifests");
    expect(allowed(r, "Archiver").slice(0, 22)).toEqual([
      `s3:ListBucket ${bucket}`,
      ...["s3:GetObject", "s3:PutObject", "s3:PutObjectRetention"].map((a) => `${a} ${written}`),
      `s3:AbortMultipartUpload ${written}`,
      ...["s3:GetObject", "s3:PutObject", "s3:PutObjectRetention"].map((a) => `${a} ${media}`),
      `s3:AbortMultipartUpload ${media}`,
      ...["s3:GetObject", "s3:PutObject", "s3:PutObjectRetention"].map((a) => `${a} ${at("tables")}`),
      `s3:AbortMultipartUpload ${at("tables")}`,
      `s3:DeleteObject ${bucket}/raw/*`,
      `sqs:ReceiveMessage ${queue}`,
      `sqs:DeleteMessage ${queue}`,
      `sqs:ChangeMessageVisibility ${queue}`,
      `sqs:GetQueueAttributes ${queue}`,
      // Export jobs: exports/ read and written (no delete), then the search grants (next test).
      ...["s3:GetObject", "s3:PutObject", "s3:PutObjectRetention", "s3:AbortMultipartUpload"].map(
        (a) => `${a} ${at("exports")}`,
      ),
    ]);
    expect(allowed(r, "ApiHandler").slice(0, 2)).toEqual([
      `s3:ListBucket ${bucket}`,
      `s3:GetObject ${at("manifests", "raw", "media", "media-index", "media-manifests", "digests", "digests-state", "digests-verified")}`,
    ]);
    // The rest is what searches need (next test).
  });

  it("every function runs nodejs24.x on arm64 with log retention, and its handler file exports handler", async () => {
    const { r } = await deploy();

    const fns = r.all(FN);
    expect(fns.map((f) => f.name).sort()).toEqual(["ApiHandler", "Archiver", "Scheduler"]);
    for (const { name } of fns) {
      const args = r.args(FN, name);
      expect(args).toMatchObject({
        runtime: "nodejs24.x",
        architecture: "arm64",
        logging: { retention: "1 month" },
      });
      const [file, exported] = String(args.handler).split(".");
      const source = new URL(`${file}.ts`, ROOT);
      expect(existsSync(source), `${file}.ts exists`).toBe(true);
      expect(exported).toBe("handler");
      expect(readFileSync(source, "utf8")).toMatch(/export (async function|const) handler\b/);
    }
    expect(r.args(FN, "Scheduler").handler).toBe("packages/functions/src/schedule.handler");
    expect(r.args(FN, "Archiver").handler).toBe("packages/functions/src/archive.handler");
    // The verifier's worker ships beside the archive handler (scripts/bundle.ts builds it).
    expect(r.args(FN, "Archiver").copyFiles).toEqual([
      { from: "dist/functions/plain-worker.mjs", to: "plain-worker.mjs" },
    ]);
    expect(r.args(FN, "ApiHandler").handler).toBe("packages/functions/src/api.handler");
    expect(seconds(r.args(FN, "Archiver").timeout)).toBe(900);
    expect(r.args(FN, "Archiver").memory).toBe("1769 MB");
    expect(seconds(r.args(FN, "ApiHandler").timeout)).toBeLessThan(30); // API Gateway's integration limit
  });

  it("job queue: DLQ after 5 receives, visibility >= 6x the archive timeout, batched partial responses", async () => {
    const { r } = await deploy();

    const queue = r.args("sst.aws.Queue", "JobQueue");
    expect(queue.dlq).toEqual({ queue: "arn:aws:sqs:eu-west-1:123456789012:JobDlq", retry: 5 });
    const archiveTimeout = seconds(r.args(FN, "Archiver").timeout);
    expect(seconds(queue.visibilityTimeout)).toBeGreaterThanOrEqual(6 * archiveTimeout);
    expect(r.subscriptions).toHaveLength(1);
    const [sub] = r.subscriptions;
    expect(sub!.queue).toBe("JobQueue");
    expect(resolved(sub!.subscriber, r)).toBe("arn:aws:lambda:eu-west-1:123456789012:function:Archiver");
    const args = resolved(sub!.args, r) as Record<string, Record<string, unknown>>;
    expect(args.batch).toEqual({ size: 2, window: "10 seconds", partialResponses: true });
    // visibility also covers the batching window
    expect(seconds(queue.visibilityTimeout)).toBeGreaterThanOrEqual(
      6 * archiveTimeout + seconds(args.batch!.window),
    );
    expect(r.args("sst.aws.Queue", "JobDlq")).toMatchObject({
      transform: { queue: { messageRetentionSeconds: 1209600 } },
    });
  });

  it("archive concurrency x per-instance rate stays within Tencent's app-wide limit", async () => {
    for (const [limit, perInstance] of [
      [undefined, 5],
      ["30", 15],
      ["3", 1],
    ] as const) {
      vi.stubEnv("IM_RATE_LIMIT", limit);
      const { r } = await deploy();

      const args = resolved(r.subscriptions[0]!.args, r) as {
        transform: { eventSourceMapping: { scalingConfig: { maximumConcurrency: number } } };
      };
      const maxConcurrency = args.transform.eventSourceMapping.scalingConfig.maximumConcurrency;
      const rate = (r.args("sst.sst.Linkable", "ImApp").properties as { rateLimit: number }).rateLimit;
      expect(maxConcurrency).toBe(2); // the smallest value AWS accepts
      expect(rate).toBe(perInstance);
      expect(maxConcurrency * rate).toBeLessThanOrEqual(Number(limit ?? 10));
    }
  });

  it("schedules the scheduler function with CronV2 (EventBridge Scheduler) at :05 every hour", async () => {
    const { r } = await deploy();

    expect(r.all("sst.aws.Cron")).toHaveLength(0);
    const crons = r.all("sst.aws.CronV2");
    expect(crons).toHaveLength(1);
    const cron = r.args("sst.aws.CronV2", crons[0]!.name);
    expect(cron.schedule).toBe("cron(5 * * * ? *)");
    expect(cron.function).toEqual({ $ref: "sst.aws.Function:Scheduler" });
  });

  it("HTTP API: the SPEC routes (and HEAD on health) and the console's go to the api function, with stage throttling and no CORS", async () => {
    const { r, outputs } = await deploy();

    expect(r.routes.map((x) => x.route).sort()).toEqual([
      "GET /",
      "GET /assets/{file}",
      "GET /v1/archive/{chatType}/{msgTime}",
      "GET /v1/exports/{id}",
      "GET /v1/health",
      "GET /v1/media",
      "GET /v1/media/banned",
      "GET /v1/openapi.json",
      "GET /v1/searches/{id}",
      "GET /v1/status",
      "HEAD /v1/health",
      "POST /v1/cos-sig",
      "POST /v1/exports",
      "POST /v1/searches",
    ]);
    for (const route of r.routes) {
      expect(resolved(route.handler, r)).toBe("arn:aws:lambda:eu-west-1:123456789012:function:ApiHandler");
    }
    const api = r.args("sst.aws.ApiGatewayV2", "HttpApi");
    expect(api.cors).toBe(false);
    const throttle = (api.transform as { stage: { defaultRouteSettings: Record<string, number> } }).stage
      .defaultRouteSettings;
    expect(throttle.throttlingRateLimit).toBeGreaterThan(0);
    expect(throttle.throttlingBurstLimit).toBeGreaterThanOrEqual(throttle.throttlingRateLimit!);
    expect(outputs).toMatchObject({ api: "https://httpapi.execute-api.eu-west-1.amazonaws.com" });
  });

  it("bucket: versioned, private, https-only, encrypted, with the lifecycle rules", async () => {
    vi.stubEnv("RAW_COLD_AFTER_DAYS", "45");
    vi.stubEnv("NONCURRENT_VERSION_DAYS", "30");
    const { r } = await deploy("dev");

    const bucket = r.args("sst.aws.Bucket", "ArchiveStore");
    expect(bucket).toMatchObject({
      versioning: true,
      enforceHttps: true,
      cors: false,
      transform: {
        publicAccessBlock: {
          blockPublicAcls: true,
          blockPublicPolicy: true,
          ignorePublicAcls: true,
          restrictPublicBuckets: true,
        },
        bucket: { forceDestroy: true },
      },
    });
    expect(bucket.access).toBeUndefined();
    const sse = r.args("aws.s3.BucketServerSideEncryptionConfiguration", "ArchiveEncryption");
    expect(sse).toMatchObject({
      bucket: "imvault-dev-archivestore-abc123",
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    });
    const { rules } = r.args("aws.s3.BucketLifecycleConfiguration", "ArchiveLifecycle") as {
      rules: Record<string, unknown>[];
    };
    expect(rules).toContainEqual(
      expect.objectContaining({
        filter: { prefix: "raw/" },
        transitions: [{ days: 45, storageClass: "GLACIER_IR" }],
        status: "Enabled",
      }),
    );
    const abort = rules.find((x) => x.abortIncompleteMultipartUpload !== undefined);
    expect(
      (abort!.abortIncompleteMultipartUpload as { daysAfterInitiation: number }).daysAfterInitiation,
    ).toBeLessThanOrEqual(2);
    expect(rules).toContainEqual(
      expect.objectContaining({ noncurrentVersionExpiration: { noncurrentDays: 30 } }),
    );
    // Exports are expired after the days retainUntilFor locks them for; no other rule expires
    // current versions (the archive is kept).
    expect(rules).toContainEqual(
      expect.objectContaining({ filter: { prefix: "exports/" }, expiration: { days: 7 }, status: "Enabled" }),
    );
    expect(
      rules.filter((x) => (x.expiration as { days?: number } | undefined)?.days !== undefined),
    ).toHaveLength(1);
    expect(retainUntilFor("exports/x/export.zip", 1095, Date.parse("2027-05-01T00:00:00Z"))!.getTime()).toBe(
      Date.parse("2027-05-08T01:00:00Z"),
    );
  });

  it("message table: a Glue table over tables/messages/ found by partition projection, no crawler", async () => {
    const { r, outputs } = await deploy();
    const bucket = "imvault-dev-archivestore-abc123";

    expect(r.args("aws.glue.CatalogDatabase", "MessagesDatabase").name).toBe("imvault_dev");
    const table = r.args("aws.glue.CatalogTable", "MessagesTable") as {
      databaseName: string;
      name: string;
      tableType: string;
      parameters: Record<string, string>;
      partitionKeys: { name: string; type: string }[];
      storageDescriptor: { location: string; columns: { name: string }[]; serDeInfo: Record<string, string> };
    };
    expect([table.databaseName, table.name, table.tableType]).toEqual([
      "imvault_dev",
      "messages",
      "EXTERNAL_TABLE",
    ]);
    expect(table.storageDescriptor.location).toBe(`s3://${bucket}/${TABLE_PREFIX}`);
    expect(table.parameters).toMatchObject({
      classification: "parquet",
      "projection.enabled": "true",
      "projection.chat_type.type": "enum",
      "projection.chat_type.values": "C2C,Group",
      "projection.dt.type": "date",
      "projection.dt.format": "yyyy-MM-dd",
      "projection.hour.type": "integer",
      "projection.hour.range": "0,23",
      "projection.hour.digits": "2",
      "storage.location.template": `s3://${bucket}/tables/messages/chat_type=\${chat_type}/dt=\${dt}/hour=\${hour}/`,
    });
    expect(table.parameters["projection.dt.range"]).toMatch(/^\d{4}-\d{2}-\d{2},NOW\+1DAYS$/);
    expect(table.storageDescriptor.serDeInfo.serializationLibrary).toMatch(/ParquetHiveSerDe$/);
    // The partitions, then the files' other columns: together the table's columns, in order.
    const { MESSAGE_COLUMNS } = await import("@imvault/im-core");
    expect(table.partitionKeys).toEqual(
      ["chat_type", "dt", "hour"].map((name) => ({ name, type: "string" })),
    );
    expect([...table.partitionKeys, ...table.storageDescriptor.columns].map((c) => c.name).sort()).toEqual(
      [...MESSAGE_COLUMNS].sort(),
    );
    // No crawler, no partition registration: projection alone.
    expect(r.records.filter((x) => /Crawler|Partition/.test(x.type))).toEqual([]);
    expect(outputs).toMatchObject({ searchWorkgroup: "imvault-dev", messagesDatabase: "imvault_dev" });
  });

  it("Athena workgroup: enforced bytes-scanned limit (ATHENA_SCAN_LIMIT_GB) and its own expiring results bucket", async () => {
    const results = "imvault-dev-searchresults-abc123";
    const workgroupOf = async () => {
      const { r } = await deploy();
      return { r, wg: r.args("aws.athena.Workgroup", "MessagesWorkgroup") };
    };

    const { r, wg } = await workgroupOf();
    expect(wg).toMatchObject({
      name: "imvault-dev",
      configuration: {
        enforceWorkgroupConfiguration: true,
        bytesScannedCutoffPerQuery: DEFAULTS.athenaScanLimitGb * 1024 ** 3,
        resultConfiguration: {
          outputLocation: `s3://${results}/searches/`,
          encryptionConfiguration: { encryptionOption: "SSE_S3" },
        },
      },
    });
    // Not the archive bucket: its Object Lock would keep every result for RETENTION_DAYS.
    expect(r.args("sst.aws.Bucket", "SearchResults")).toMatchObject({
      enforceHttps: true,
      transform: { bucket: { forceDestroy: true } },
    });
    expect(r.args("sst.aws.Bucket", "SearchResults").transform).not.toHaveProperty(
      "bucket.objectLockEnabled",
    );
    const { rules } = r.args("aws.s3.BucketLifecycleConfiguration", "SearchResultsLifecycle") as {
      bucket: string;
      rules: Record<string, unknown>[];
    };
    expect(r.args("aws.s3.BucketLifecycleConfiguration", "SearchResultsLifecycle").bucket).toBe(results);
    expect(rules).toEqual([
      expect.objectContaining({
        status: "Enabled",
        filter: { prefix: "" },
        expiration: { days: DEFAULTS.athenaResultsDays },
      }),
    ]);

    vi.stubEnv("ATHENA_SCAN_LIMIT_GB", "3");
    vi.stubEnv("ATHENA_RESULTS_DAYS", "7");
    const set = await deploy();
    expect(
      (set.r.args("aws.athena.Workgroup", "MessagesWorkgroup").configuration as Record<string, number>)
        .bytesScannedCutoffPerQuery,
    ).toBe(3 * 1024 ** 3);
    expect(
      (
        set.r.args("aws.s3.BucketLifecycleConfiguration", "SearchResultsLifecycle").rules as Record<
          string,
          unknown
        >[]
      )[0],
    ).toMatchObject({ expiration: { days: 7 } });
    vi.stubEnv("ATHENA_SCAN_LIMIT_GB", "0");
    await expect(deploy()).rejects.toThrow(/ATHENA_SCAN_LIMIT_GB must be an integer from 1/);
  });

  it("the API function may search and nothing more: its workgroup, its table in Glue, the table's files, the results bucket", async () => {
    const { r } = await deploy();
    const bucket = "arn:aws:s3:::imvault-dev-archivestore-abc123";
    const results = "arn:aws:s3:::imvault-dev-searchresults-abc123";
    const glue = "arn:aws:glue:eu-west-1:123456789012";
    const workgroup = "arn:aws:athena:eu-west-1:123456789012:workgroup/imvault-dev";
    const tableGrants = [
      `${glue}:catalog`,
      `${glue}:database/imvault_dev`,
      `${glue}:table/imvault_dev/messages`,
    ];

    const search = [
      `athena:StartQueryExecution ${workgroup}`,
      `athena:GetQueryExecution ${workgroup}`,
      `athena:GetQueryResults ${workgroup}`,
      `glue:GetDatabase ${tableGrants.join(" ")}`,
      `glue:GetTable ${tableGrants.join(" ")}`,
      `glue:GetPartitions ${tableGrants.join(" ")}`,
      `s3:GetObject ${bucket}/tables/messages/*`,
      `s3:GetBucketLocation ${bucket} ${results}`,
      `s3:ListBucket ${results}`,
      `s3:GetObject ${results}/searches/*`,
      `s3:PutObject ${results}/searches/*`,
      `s3:AbortMultipartUpload ${results}/searches/*`,
    ];
    expect(allowed(r, "ApiHandler").slice(2)).toEqual([
      ...search,
      // Exports: the request written, anything of an export read, the job sent.
      `s3:PutObject ${bucket}/exports/*/request.json`,
      `s3:PutObjectRetention ${bucket}/exports/*/request.json`,
      `s3:GetObject ${bucket}/exports/*`,
      "sqs:SendMessage arn:aws:sqs:eu-west-1:123456789012:JobQueue",
    ]);
    // The archive function's export jobs read their rows as the API's searches do.
    expect(
      allowed(r, "Archiver").filter((a) => /athena:|glue:|searchresults|tables\/messages/.test(a)),
    ).toEqual(search.filter((a) => /athena:|glue:|searchresults|tables\/messages/.test(a)));
    // Nobody else touches Athena, Glue or the results.
    for (const fn of ["Scheduler"]) {
      expect(allowed(r, fn).filter((a) => /athena:|glue:|searchresults/.test(a))).toEqual([]);
    }
    // Where the workgroup writes is where the API may write: the same prefix of the same bucket.
    const output = (
      r.args("aws.athena.Workgroup", "MessagesWorkgroup").configuration as {
        resultConfiguration: { outputLocation: string };
      }
    ).resultConfiguration.outputLocation;
    expect(`${output.replace("s3://", "arn:aws:s3:::")}*`).toBe(`${results}/searches/*`);
  });

  it("production never force-destroys the bucket", async () => {
    const { r } = await deploy("prod");

    expect(r.args("sst.aws.Bucket", "ArchiveStore")).toMatchObject({
      transform: { bucket: { forceDestroy: false } },
    });
  });

  it("ImApp carries the deploy-time settings; a missing app id or an unknown region fails the deploy", async () => {
    vi.stubEnv("IM_ADMIN", "ops_admin");
    vi.stubEnv("IM_REGION", "sgp");
    vi.stubEnv("LOOKBACK_HOURS", "96");
    const { r } = await deploy();
    expect(r.args("sst.sst.Linkable", "ImApp").properties).toEqual({
      sdkAppId: 1400000001,
      admin: "ops_admin",
      region: "sgp",
      baseUrl: "",
      rateLimit: 5,
      lookbackHours: 96,
      settleHours: 6,
      maxAttemptsPerFile: 5,
      mediaRetentionDays: 7,
      mediaConcurrency: 16,
      downloadHosts: "",
      cosUrlHosts: "",
    });

    for (const region of Object.keys(REGIONS)) {
      vi.stubEnv("IM_REGION", region);
      await expect(deploy()).resolves.toBeDefined();
    }
    vi.stubEnv("IM_REGION", "mars");
    await expect(deploy()).rejects.toThrow(/IM_REGION must be one of cn, sgp, kr, jpn, ger, usa, idn, ind/);
    vi.stubEnv("IM_REGION", undefined);
    vi.stubEnv("IM_SDKAPPID", undefined);
    await expect(deploy()).rejects.toThrow(/Set IM_SDKAPPID/);
  });

  it("sst-env.d.ts is what SST generates for this config's resources", async () => {
    const { r } = await deploy();

    expect(readFileSync(new URL("sst-env.d.ts", ROOT), "utf8")).toBe(renderSstEnv(r));
  });
});
