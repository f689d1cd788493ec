import { ValidationError } from "../errors.ts";
import { sealDigest } from "../evidence/seal.ts";
import type { DigestSigner } from "../evidence/signer.ts";
import { CHAT_TYPES, type ChatType } from "../im/types.ts";
import { enqueueJobs } from "../queue/enqueue.ts";
import type { JobQueue } from "../queue/port.ts";
import { EVIDENCE, LIMITS } from "../schemas/limits.ts";
import type { ArchiveStore } from "../store/port.ts";
import { hourStart, type MsgTime, parseMsgTime } from "../time/msgtime.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import { METRIC, type Metrics, noMetrics } from "../util/metrics.ts";
import { defaultWindow, plan } from "./plan.ts";

/** A manual backfill: `{ "from": "YYYYMMDDHH", "to": "YYYYMMDDHH", "chatType"?: "C2C" | "Group" }`. */
export interface BackfillRequest {
  from: MsgTime;
  to: MsgTime;
  chatTypes: readonly ChatType[];
}

/** Reads a scheduler event: undefined for the ordinary hourly run, a request for a backfill. */
export function parseScheduleEvent(event: unknown): BackfillRequest | undefined {
  if (event === null || typeof event !== "object") return undefined;
  const e = event as Record<string, unknown>;
  if (e.from === undefined && e.to === undefined) return undefined;
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
  return { from, to, chatTypes };
}

export interface ScheduleDeps {
  store: ArchiveStore;
  queue: JobQueue;
  clock: Clock;
  logger: Logger;
  metrics?: Metrics;
  config: { lookbackHours: number; settleHours: number };
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
  planned: number;
  skipped: number;
  enqueued: number;
  failed: number;
  missingPastSettle: number;
  /** Corrupt manifests in the window (not JSON or not a manifest): their hours are enqueued again. */
  corrupt: number;
  /** The digest this run sealed; absent when the deps have no digestSigner. */
  digest?: ScheduleDigest;
}

/** Plans the window (the scheduler's, or a backfill's) and enqueues one job per hour not yet archived. */
export async function runSchedule(deps: ScheduleDeps, backfill?: BackfillRequest): Promise<ScheduleSummary> {
  const now = deps.clock.now();
  const window = backfill ?? defaultWindow(now, deps.config.lookbackHours);
  if (backfill !== undefined) {
    const hours = (hourStart(backfill.to) - hourStart(backfill.from)) / 3_600_000 + 1;
    if (hours > LIMITS.maxWindowHours) {
      throw new ValidationError(`a backfill may span at most ${LIMITS.maxWindowHours} hours, not ${hours}`);
    }
  }
  const planned = await plan(deps.store, window, now, {
    ...deps.config,
    ...(backfill === undefined ? {} : { chatTypes: backfill.chatTypes }),
  });
  const result = await enqueueJobs(deps.queue, planned.jobs, { clock: deps.clock });
  const metrics = deps.metrics ?? noMetrics;
  metrics.count(METRIC.jobsEnqueued, result.enqueued);
  metrics.count(METRIC.hoursMissingPastSettle, planned.missingPastSettle.length);
  metrics.count(METRIC.corruptManifests, planned.corrupt.length);
  const summary: ScheduleSummary = {
    from: planned.from,
    to: planned.to,
    planned: planned.jobs.length,
    skipped: planned.skipped,
    enqueued: result.enqueued,
    failed: result.failed.length,
    missingPastSettle: planned.missingPastSettle.length,
    corrupt: planned.corrupt.length,
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
  if (result.failed.length > 0) {
    deps.logger.error("some jobs could not be enqueued", { failed: result.failed });
  }
  if (deps.digestSigner !== undefined) summary.digest = await sealHourly(deps, deps.digestSigner);
  deps.logger.info("schedule", { ...summary, backfill: backfill !== undefined });
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
