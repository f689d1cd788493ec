import * as v from "valibot";
import { ValidationError } from "../errors.ts";
import { CHAT_TYPES, type ChatType } from "../im/types.ts";
import { isMsgTime, type MsgTime } from "../time/msgtime.ts";

/** A job on the queue: archive one hour of one chat type. The queue carries work, never truth. */
export interface HourJob {
  v: 1;
  chatType: ChatType;
  msgTime: MsgTime;
}

const jobSchema = v.strictObject({
  v: v.literal(1),
  chatType: v.picklist(CHAT_TYPES),
  msgTime: v.pipe(v.string(), v.check(isMsgTime, "must be a real Beijing hour YYYYMMDDHH")),
});

/** Parses a queue message body. Anything else is malformed: a ValidationError (dropped, never retried). */
export function parseJob(body: string): HourJob {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new ValidationError("job message is not JSON");
  }
  const parsed = v.safeParse(jobSchema, value);
  if (!parsed.success) {
    throw new ValidationError("job message is malformed", {
      issues: parsed.issues.map((i) => `${v.getDotPath(i) ?? "(root)"}: ${i.message}`),
    });
  }
  return parsed.output as HourJob;
}

export function jobId(job: Pick<HourJob, "chatType" | "msgTime">): string {
  return `${job.chatType}-${job.msgTime}`;
}
