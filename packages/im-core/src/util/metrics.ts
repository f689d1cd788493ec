/**
 * The metrics port: im-core counts by name; the Lambda handlers send the counts to CloudWatch through
 * Powertools Metrics, the CLI ignores them or prints them. Names are listed once, here.
 */
export const METRIC = {
  hoursArchived: "HoursArchived",
  hoursEmpty: "HoursEmpty",
  hoursExpired: "HoursExpired",
  hoursPending: "HoursPending",
  hoursSkipped: "HoursSkipped",
  archiveFailures: "ArchiveFailures",
  fileRetries: "FileRetries",
  bytesArchived: "BytesArchived",
  filesArchived: "FilesArchived",
  hoursMissingPastSettle: "HoursMissingPastSettle",
  /** A manifest that is not JSON or not a manifest: seen by the scheduler, or set aside by an archive job. */
  corruptManifests: "CorruptManifests",
  /** The message table of an archived hour could not be written (the job still succeeds). */
  indexFailures: "IndexFailures",
  jobsEnqueued: "JobsEnqueued",
  apiRequests: "ApiRequests",
  /** Media capture: hours committed, objects downloaded and stored, bytes downloaded, and so on. */
  mediaHoursCaptured: "MediaHoursCaptured",
  mediaHoursSkipped: "MediaHoursSkipped",
  mediaCaptured: "MediaCaptured",
  mediaReused: "MediaReused",
  mediaMissing: "MediaMissing",
  mediaRefused: "MediaRefused",
  mediaBytes: "MediaBytes",
  mediaRetries: "MediaRetries",
  mediaFailures: "MediaFailures",
  /**
   * Hours whose history is archived but whose media are still not captured half of
   * IM_MEDIA_RETENTION_DAYS after the hour: seen by the scheduler, which enqueues them again.
   */
  mediaOverdue: "MediaOverdue",
  /** Evidence: a digest sealed (the scheduler: at least one an hour); a digest that does not check out. */
  digestsSealed: "DigestsSealed",
  digestChainBroken: "DigestChainBroken",
} as const;
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

export interface Metrics {
  count(name: MetricName, value?: number, unit?: "Count" | "Bytes"): void;
}

export const noMetrics: Metrics = { count() {} };
