import type { Settings } from "./settings";

interface Watched {
  queue: sst.aws.Queue;
  dlq: sst.aws.Queue;
  scheduleFn: sst.aws.Function;
  archiveFn: sst.aws.Function;
}

/** Operations: CloudWatch alarms to an SNS topic (with an optional e-mail subscription), one dashboard. */
export function alarms(settings: Settings, { queue, dlq, scheduleFn, archiveFn }: Watched) {
  const alerts = new sst.aws.SnsTopic("Alerts");
  if (settings.alertEmail) {
    new aws.sns.TopicSubscription("AlertsEmail", {
      topic: alerts.arn,
      protocol: "email",
      endpoint: settings.alertEmail,
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
  new aws.cloudwatch.MetricAlarm("CorruptManifestsAlarm", {
    name: `${prefix}-corrupt-manifests`,
    alarmDescription:
      "A manifest is not JSON or not a manifest: the hour counts as not archived and is archived again (its bytes are kept under manifests-corrupt/).",
    metricQueries: insights("CorruptManifests", 3600),
    ...above0,
    treatMissingData: "notBreaching",
    ...notify,
  });
  const overdueDays = settings.mediaRetentionDays / 2;
  new aws.cloudwatch.MetricAlarm("MediaOverdueAlarm", {
    name: `${prefix}-media-overdue`,
    alarmDescription:
      `Archived hours whose media are still not captured ${overdueDays} days after the hour (half of ` +
      `IM_MEDIA_RETENTION_DAYS = ${settings.mediaRetentionDays}; Tencent deletes them then): read the ` +
      "archive logs for failed media jobs (kind media), fix, and run `imvault media` or redrive the DLQ.",
    metricQueries: insights("MediaOverdue", 3600),
    ...above0,
    treatMissingData: "notBreaching",
    ...notify,
  });
  new aws.cloudwatch.MetricAlarm("DigestChainBrokenAlarm", {
    name: `${prefix}-digest-chain-broken`,
    alarmDescription:
      "The head digest does not check out (signature, key or link): run `imvault verify` on the bucket with the exported public key.",
    metricQueries: insights("DigestChainBroken", 3600),
    ...above0,
    treatMissingData: "notBreaching",
    ...notify,
  });
  new aws.cloudwatch.MetricAlarm("NoDigestSealedAlarm", {
    name: `${prefix}-no-digest-sealed`,
    alarmDescription:
      "No digest was sealed for 2 hours: the scheduler cannot sign or write digests/ (read its logs), so what is committed goes unsealed.",
    metricQueries: insights("DigestsSealed", 3600),
    evaluationPeriods: 2,
    comparisonOperator: "LessThanThreshold",
    threshold: 1,
    treatMissingData: "breaching", // no digest is exactly the failure this alarm is for
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

  dashboard(prefix, { queue, dlq, scheduleFn, archiveFn });
  return { alerts };
}

function dashboard(name: string, { queue, dlq, scheduleFn, archiveFn }: Watched): void {
  const q = (metric: string, id: string, period = 3600) => ({
    expression: `SELECT SUM(${metric}) FROM imvault`,
    id,
    label: metric,
    period,
  });
  const widget = (x: number, y: number, title: string, metrics: unknown[], stat = "Sum", period = 3600) => ({
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
    dashboardName: name,
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
            [q("MediaFailures", "mf", 300)],
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
        widget(12, 12, "Media (sum per hour)", [
          [q("MediaHoursCaptured", "mh")],
          [q("MediaCaptured", "mc")],
          [q("MediaMissing", "mm")],
          [q("MediaBytes", "mb")],
          [q("MediaOverdue", "mo")],
        ]),
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
}
