import * as v from "valibot";
import { ValidationError } from "../errors.ts";
import { type ExportRequest, ExportRequestSchema } from "../export/request.ts";
import { CHAT_TYPES, type ChatType } from "../im/types.ts";
import { isMsgTime, type MsgTime } from "../time/msgtime.ts";

/**
 * The queue's messages: `{"v":1,"kind":"history"|"media","chatType","msgTime"}`, one hour of one chat
 * type and what to do with it: archive its history, or capture its media (which needs the history
 * archived first); or `{"v":1,"kind":"export","id","request"}`, an export the API was asked for
 * (export/api-exports.ts). The queue carries work, never truth: the manifests (and an export's
 * status.json) say what is done.
 */

export const JOB_KINDS = ["history", "media"] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** One hour of one chat type, as a history job names it (archiveHour's argument). */
export interface HourJob {
  v: 1;
  chatType: ChatType;
  msgTime: MsgTime;
}

/** A message on the queue, parsed: `kind` is always set (a message without one is a history job). */
export interface QueueJob extends HourJob {
  kind: JobKind;
}

/** An export the API accepted: its id (`exports/{id}/`) and what was asked. */
export interface ExportJob {
  v: 1;
  kind: "export";
  id: string;
  request: ExportRequest;
}

/** Any message on the queue, parsed. */
export type AnyJob = QueueJob | ExportJob;

/** An export's id: a UUID, as POST /v1/exports makes it (it names a folder of the store). */
export const EXPORT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const exportJobSchema = v.strictObject({
  v: v.literal(1),
  kind: v.literal("export"),
  id: v.pipe(v.string(), v.regex(EXPORT_ID, "must be an export id (a lower-case UUID)")),
  request: ExportRequestSchema,
});

const hourJobSchema = v.strictObject({
  v: v.literal(1),
  // Messages enqueued before media capture existed carry no kind: they are history jobs.
  kind: v.optional(v.picklist(JOB_KINDS), "history"),
  chatType: v.picklist(CHAT_TYPES),
  msgTime: v.pipe(v.string(), v.check(isMsgTime, "must be a real Beijing hour YYYYMMDDHH")),
});

/** The job of `kind` for one hour: what the scheduler and the tests enqueue. */
export function queueJob(kind: JobKind, hour: { chatType: ChatType; msgTime: MsgTime }): QueueJob {
  return { v: 1, kind, chatType: hour.chatType, msgTime: hour.msgTime };
}

/** Parses a queue message body. Anything else is malformed: a ValidationError (dropped, never retried). */
export function parseJob(body: string): AnyJob {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new ValidationError("job message is not JSON");
  }
  const isExport =
    typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "export";
  const parsed = isExport ? v.safeParse(exportJobSchema, value) : v.safeParse(hourJobSchema, value);
  if (!parsed.success) {
    throw new ValidationError("job message is malformed", {
      issues: parsed.issues.map((i) => `${v.getDotPath(i) ?? "(root)"}: ${i.message}`),
    });
  }
  return parsed.output as AnyJob;
}

/**
 * A name for the job, unique among the jobs one scheduler run sends (an SQS batch entry id): a
 * history job's is `C2C-2024030118` as it always was, a media job's `media-C2C-2024030118`.
 */
export function jobId(job: Pick<HourJob, "chatType" | "msgTime"> & { kind?: JobKind }): string {
  const name = `${job.chatType}-${job.msgTime}`;
  return job.kind === "media" ? `media-${name}` : name;
}
