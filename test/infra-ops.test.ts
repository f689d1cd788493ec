import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { allowed, DEPLOY_VARS, deployWith, importSstConfig, type SstConfig } from "./sst-fakes.ts";

/*
 * The operations side of sst.config.ts (alarms, the dashboard) and what media capture needs of the
 * stack, evaluated against SST fakes like test/infra.test.ts (which checks the rest of the wiring).
 */
let config: SstConfig;

beforeAll(async () => {
  config = await importSstConfig(new URL("../sst.config.ts", import.meta.url));
});
beforeEach(() => {
  for (const name of DEPLOY_VARS) vi.stubEnv(name, undefined);
  vi.stubEnv("IM_SDKAPPID", "1400000001");
});
afterEach(() => {
  vi.unstubAllEnvs();
});

const deploy = (stage = "dev") => deployWith(config, stage);
const BUCKET = "arn:aws:s3:::imvault-dev-archivestore-abc123";

describe("sst.config.ts: operations", () => {
  it("alarms: DLQ depth, expired and overdue hours, corrupt manifests, overdue media, archive failures and errors, all to the Alerts topic", async () => {
    const { r } = await deploy("prod");
    const topic = "arn:aws:sns:eu-west-1:123456789012:Alerts";
    const alarms = Object.fromEntries(
      r.all("aws.cloudwatch.MetricAlarm").map((a) => [a.name, r.args(a.type, a.name)]),
    );
    const insight = (a: Record<string, unknown>) =>
      (a.metricQueries as { expression: string }[])[0]!.expression;

    for (const alarm of Object.values(alarms)) {
      expect(alarm.alarmActions).toEqual([topic]);
      expect(alarm.okActions).toEqual([topic]);
    }
    expect(alarms.DlqNotEmptyAlarm).toMatchObject({
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: "imvault-prod-JobDlqQueue" },
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
    });
    for (const [name, metric] of [
      ["HoursExpiredAlarm", "HoursExpired"],
      ["HoursMissingPastSettleAlarm", "HoursMissingPastSettle"],
      ["ArchiveFailuresAlarm", "ArchiveFailures"],
      ["CorruptManifestsAlarm", "CorruptManifests"],
      ["MediaOverdueAlarm", "MediaOverdue"],
    ] as const) {
      expect(insight(alarms[name]!)).toBe(`SELECT SUM(${metric}) FROM imvault`);
      expect(alarms[name]).toMatchObject({
        comparisonOperator: "GreaterThanThreshold",
        threshold: 0,
        treatMissingData: "notBreaching",
      });
    }
    expect(alarms.ArchiveErrorsAlarm).toMatchObject({
      namespace: "AWS/Lambda",
      metricName: "Errors",
      dimensions: { FunctionName: "imvault-prod-ArchiverFunction-abc123" },
      threshold: 0,
      treatMissingData: "notBreaching",
    });
    // A schedule that stops running is itself an alarm: missing data counts as breaching there.
    expect(alarms.ScheduleNotRunningAlarm).toMatchObject({
      metricName: "Invocations",
      dimensions: { FunctionName: "imvault-prod-SchedulerFunction-abc123" },
      comparisonOperator: "LessThanThreshold",
      treatMissingData: "breaching",
    });
  });

  it("ALERT_EMAIL subscribes that address to the topic; without it there is no subscription", async () => {
    expect((await deploy()).r.all("aws.sns.TopicSubscription")).toHaveLength(0);

    vi.stubEnv("ALERT_EMAIL", "oncall@example.com");
    const { r } = await deploy();

    expect(r.args("aws.sns.TopicSubscription", "AlertsEmail")).toEqual({
      topic: "arn:aws:sns:eu-west-1:123456789012:Alerts",
      protocol: "email",
      endpoint: "oncall@example.com",
    });
  });

  it("dashboard: hours archived, bytes, failures, API requests by status, and media", async () => {
    const { r } = await deploy("prod");

    const dashboard = r.args("aws.cloudwatch.Dashboard", "Dashboard");
    expect(dashboard.dashboardName).toBe("imvault-prod");
    const body = String(dashboard.dashboardBody);
    for (const query of [
      "SELECT SUM(HoursArchived) FROM imvault",
      "SELECT SUM(BytesArchived) FROM imvault",
      "SELECT SUM(ArchiveFailures) FROM imvault",
      "SELECT SUM(ApiRequests) FROM imvault GROUP BY Status",
      "SELECT SUM(MediaFailures) FROM imvault",
      "SELECT SUM(MediaHoursCaptured) FROM imvault",
      "SELECT SUM(MediaOverdue) FROM imvault",
    ]) {
      expect(body).toContain(query);
    }
    expect(JSON.parse(body).widgets.length).toBeGreaterThanOrEqual(4);
  });
});

describe("sst.config.ts: media capture", () => {
  it("alarms on MediaOverdue at half of IM_MEDIA_RETENTION_DAYS, which reaches the functions through ImApp", async () => {
    vi.stubEnv("IM_MEDIA_RETENTION_DAYS", "30");
    vi.stubEnv("IM_MEDIA_CONCURRENCY", "8");
    const { r } = await deploy();

    const alarm = r.args("aws.cloudwatch.MetricAlarm", "MediaOverdueAlarm");
    expect(String(alarm.alarmDescription)).toMatch(
      /15 days after the hour \(half of IM_MEDIA_RETENTION_DAYS = 30;/,
    );
    expect(r.args("sst.sst.Linkable", "ImApp").properties).toMatchObject({
      mediaRetentionDays: 30,
      mediaConcurrency: 8,
    });
  });

  it("refuses IM_MEDIA_RETENTION_DAYS and IM_MEDIA_CONCURRENCY out of range at deploy time", async () => {
    vi.stubEnv("IM_MEDIA_RETENTION_DAYS", "91");
    await expect(deploy()).rejects.toThrow(/IM_MEDIA_RETENTION_DAYS must be an integer from 1 to 90/);
    vi.stubEnv("IM_MEDIA_RETENTION_DAYS", undefined);
    vi.stubEnv("IM_MEDIA_CONCURRENCY", "0");
    await expect(deploy()).rejects.toThrow(/IM_MEDIA_CONCURRENCY must be an integer from 1 to 64/);
  });

  it("lets only the archive function write media, never delete them; the API reads them, the scheduler only the media manifests it seals", async () => {
    const { r } = await deploy();
    /** The resources one function may run `action` on. */
    const on = (fn: string, action: string) =>
      allowed(r, fn)
        .filter((line) => line.startsWith(`${action} `))
        .flatMap((line) => line.split(" ").slice(1));

    for (const prefix of ["media/", "media-index/", "media-manifests/"]) {
      const objects = `${BUCKET}/${prefix}*`;
      expect(on("Archiver", "s3:PutObject"), prefix).toContain(objects);
      expect(on("Archiver", "s3:GetObject"), prefix).toContain(objects);
      expect(on("ApiHandler", "s3:GetObject"), prefix).toContain(objects);
      for (const fn of ["Archiver", "ApiHandler", "Scheduler"]) {
        expect(on(fn, "s3:DeleteObject"), `${fn} ${prefix}`).not.toContain(objects);
      }
      // The scheduler plans media jobs from listings alone (ListBucket); of these prefixes it reads
      // only the media manifests, which the hourly digest seals, and writes none.
      expect(on("Scheduler", "s3:PutObject"), prefix).not.toContain(objects);
      if (prefix === "media-manifests/") expect(on("Scheduler", "s3:GetObject"), prefix).toContain(objects);
      else expect(allowed(r, "Scheduler").join(" "), prefix).not.toContain(`${BUCKET}/${prefix}`);
    }
    // The API writes nothing to the archive but an export's request (search results go to their own
    // bucket: infra.test.ts).
    expect(on("ApiHandler", "s3:PutObject").filter((arn) => arn.startsWith(`${BUCKET}/`))).toEqual([
      `${BUCKET}/exports/*/request.json`,
    ]);
  });
});
