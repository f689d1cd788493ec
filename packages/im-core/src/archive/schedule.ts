import { ValidationError } from "../errors.ts";
import { sealDigest } from "../evidence/seal.ts";
import type { DigestSigner } from "../evidence/signer.ts";
import { CHAT_TYPES, type ChatType } from "../im/types.ts";
import { mediaWindow, planMedia } from "../media/plan.ts";
import { enqueueJobs } from "../queue/enqueue.ts";
import { JOB_KINDS, type JobKind, queueJob } from "../queue/job.ts";
import type { JobQueue } from "../queue/port.ts";
import { EVIDENCE, LIMITS } from "../schemas/limits.ts";
import type { ArchiveStore } from "../store/port.ts";
import { hourStart, type MsgTime, parseMsgTime } from "../time/msgtime.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import { METRIC, type Metrics, noMetrics } from "../util/metrics.ts";
import { defaultWindow, type Plan, plan } from "./plan.ts";

/** A manual backfill: `{ "from": "YYYYMMDDHH", "to": "YYYYMMDDHH", "chatType"?: "C2C" | "Group" }`. */
export interface BackfillRequest {
  from: MsgTime;
  to: MsgTime;
  chatTypes: readonly ChatType[];
}

/** What one scheduler run plans: a backfill's window or its own, and which kinds of job. */
export interface ScheduleRequest {
  /** Undefined for the ordinary run: LOOKBACK_HOURS for history, IM_MEDIA_RETENTION_DAYS for media. */
  backfill?: BackfillRequest;
  /** Both kinds unless the event names one (`"kind": "history" | "media"`). */
  kinds?: readonly JobKind[];
}

/**
 * Reads a scheduler event: `{}` (or anything without the fields below) for the ordinary hourly run;
 * `from` and `to` (and optionally `chatType`) ask for a backfill of that window; `kind` plans only
 * history or only media jobs (`{"kind":"media"}`: capture the media of every archived hour still
 * without them, now).
 */
export function parseScheduleEvent(event: unknown): ScheduleRequest {
  if (event === null || typeof event !== "object") return {};
  const e = event as Record<string, unknown>;
  let kinds: readonly JobKind[] | undefined;
  if (e.kind !== undefined) {
    if (!JOB_KINDS.includes(e.kind as JobKind)) {
      throw new ValidationError(`\`kind\` must be one of ${JOB_KINDS.join(", ")}`);
    }
    kinds = [e.kind as JobKind];
  }
  const only = kinds === undefined ? {} : { kinds };
  if (e.from === undefined && e.to === undefined) return only;
  if (typeof e.from !== "string" || typeof e.to !== "string") {
    throw new ValidationError("a backfill needs both `from` and `to` as YYYYMMDDHH strings");
  }
  const from = parseMsgTime(e.from);
  const to = parseMsgTime(e.to);
  if (from > to) throw new ValidationError(`backfill \`from\` ${from} is after \`to\` ${to}`);
  let chatTypes: readonly ChatType[] = CHAT_TYPES;
  if (e.chatType !== undefined) {
    if (!CHAT_TYPES.includes(e.chatType as ChatType)) {
      throw new ValidationError("backfill `chatType` must be C2C or Group");
    }
    chatTypes = [e.chatType as ChatType];
  }
  return { backfill: { from, to, chatTypes }, ...only };
}

export interface ScheduleDeps {
  store: ArchiveStore;
  queue: JobQueue;
  clock: Clock;
  logger: Logger;
  metrics?: Metrics;
  config: { lookbackHours: number; settleHours: number; mediaRetentionDays: number };
  /**
   * Who signs the hourly digest (docs/evidence.md): the KMS key in AWS, the local key under
   * `imvault dev`. Without it no digest is sealed; a signer that cannot be made is logged as an error.
   */
  digestSigner?: () => Promise<DigestSigner | undefined>;
}

/** The hourly digest: sealed (even with nothing new, for continuity), or why not. */
export type ScheduleDigest =
  | { outcome: "sealed"; key: string; objects: number; files: number }
  | { outcome: "nothing-new" | "no-signer" }
  | { outcome: "failed"; error: string };

export interface ScheduleSummary {
  from: MsgTime;
  to: MsgTime;
  /** History jobs planned (hours without a manifest, or with a corrupt one). */
  planned: number;
  skipped: number;
  /** Jobs of both kinds the queue took. */
  enqueued: number;
  failed: number;
  missingPastSettle: number;
  /** Corrupt manifests in the window (not JSON or not a manifest): their hours are enqueued again. */
  corrupt: number;
  /** Media jobs planned: archived hours without a media manifest (in the media window). */
  mediaPlanned: number;
  /** Of those, hours past half of IM_MEDIA_RETENTION_DAYS (the MediaOverdue metric). */
  mediaOverdue: number;
  /** The digest this run sealed; absent when the deps have no digestSigner. */
  digest?: ScheduleDigest;
}

/**
 * Plans the window (the scheduler's, or a backfill's) and enqueues one history job per hour not yet
 * archived, then one media job per archived hour whose media are not captured yet (in the ordinary
 * run, over the last IM_MEDIA_RETENTION_DAYS days: Tencent keeps media no longer). The scheduler is
 * the only one that enqueues media jobs: it re-plans them from the manifests every hour, so a lost or
 * failed media job is planned again, and the archive function needs no queue client. A media job
 * therefore follows its hour's history commit by up to an hour, far inside Tencent's retention.
 */
export async function runSchedule(
  deps: ScheduleDeps,
  request: ScheduleRequest = {},
): Promise<ScheduleSummary> {
  const now = deps.clock.now();
  const { backfill } = request;
  const kinds = request.kinds ?? JOB_KINDS;
  const window = backfill ?? defaultWindow(now, deps.config.lookbackHours);
  if (backfill !== undefined) {
    const hours = (hourStart(backfill.to) - hourStart(backfill.from)) / 3_600_000 + 1;
    if (hours > LIMITS.maxWindowHours) {
      throw new ValidationError(`a backfill may span at most ${LIMITS.maxWindowHours} hours, not ${hours}`);
    }
  }
  const chatTypes = backfill === undefined ? {} : { chatTypes: backfill.chatTypes };
  const planned: Plan = kinds.includes("history")
    ? await plan(deps.store, window, now, { ...deps.config, ...chatTypes })
    : { jobs: [], skipped: 0, corrupt: [], missingPastSettle: [], ...window };
  const media = kinds.includes("media")
    ? await planMedia(deps.store, backfill ?? mediaWindow(now, deps.config.mediaRetentionDays), now, {
        ...chatTypes,
        overdueAfterHours: deps.config.mediaRetentionDays * 12,
        corrupt: new Set(planned.corrupt),
      })
    : undefined;
  const jobs = [
    ...planned.jobs.map((job) => queueJob("history", job)),
    ...(media?.jobs ?? []).map((job) => queueJob("media", job)),
  ];
  const result = await enqueueJobs(deps.queue, jobs, { clock: deps.clock });
  const metrics = deps.metrics ?? noMetrics;
  metrics.count(METRIC.jobsEnqueued, result.enqueued);
  if (kinds.includes("history")) {
    metrics.count(METRIC.hoursMissingPastSettle, planned.missingPastSettle.length);
    metrics.count(METRIC.corruptManifests, planned.corrupt.length);
  }
  if (media !== undefined) metrics.count(METRIC.mediaOverdue, media.overdue.length);
  // The window shown is the history one, or the media one when only media were planned.
  const shown = media !== undefined && !kinds.includes("history") ? media : planned;
  const summary: ScheduleSummary = {
    from: shown.from,
    to: shown.to,
    planned: planned.jobs.length,
    skipped: planned.skipped,
    enqueued: result.enqueued,
    failed: result.failed.length,
    missingPastSettle: planned.missingPastSettle.length,
    corrupt: planned.corrupt.length,
    mediaPlanned: media?.jobs.length ?? 0,
    mediaOverdue: media?.overdue.length ?? 0,
  };
  if (planned.corrupt.length > 0) {
    deps.logger.error("corrupt manifests (not JSON or not a manifest): their hours are enqueued again", {
      keys: planned.corrupt,
    });
  }
  if (planned.missingPastSettle.length > 0) {
    deps.logger.warn("hours past their settle window are still not archived", {
      hours: planned.missingPastSettle.map((j) => `${j.chatType}:${j.msgTime}`),
    });
  }
  if (media !== undefined && media.overdue.length > 0) {
    deps.logger.warn(
      "archived hours whose media are still not captured, half of IM_MEDIA_RETENTION_DAYS on",
      {
        hours: media.overdue.map((j) => `${j.chatType}:${j.msgTime}`),
      },
    );
  }
  if (result.failed.length > 0) {
    deps.logger.error("some jobs could not be enqueued", { failed: result.failed });
  }
  if (deps.digestSigner !== undefined) summary.digest = await sealHourly(deps, deps.digestSigner);
  deps.logger.info("schedule", { ...summary, backfill: backfill !== undefined, kinds });
  return summary;
}

/**
 * After the jobs are enqueued, one digest: of what was committed since the last one, or empty when the
 * head is older than EVIDENCE.emptyDigestAfterMs, so that every hour has one and a gap shows. A
 * failure does not undo the enqueueing: it is logged, and the alarm on DigestsSealed fires.
 */
async function sealHourly(
  deps: ScheduleDeps,
  makeSigner: () => Promise<DigestSigner | undefined>,
): Promise<ScheduleDigest> {
  try {
    const signer = await makeSigner();
    if (signer === undefined) {
      deps.logger.error("no digest signer is configured: no digest is sealed");
      return { outcome: "no-signer" };
    }
    const sealed = await sealDigest(
      { store: deps.store, signer, clock: deps.clock, logger: deps.logger, metrics: deps.metrics },
      { emptyAfterMs: EVIDENCE.emptyDigestAfterMs },
    );
    if (sealed.outcome === "nothing-new" || sealed.key === undefined) return { outcome: "nothing-new" };
    return { outcome: "sealed", key: sealed.key, objects: sealed.objects, files: sealed.files };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    deps.logger.error("the hourly digest could not be sealed", { error: message });
    return { outcome: "failed", error: message };
  }
}
