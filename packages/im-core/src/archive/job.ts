import { z } from "zod";
import { ValidationError } from "../errors.ts";
import { CHAT_TYPES, type ChatType } from "../im/types.ts";
import { isMsgTime, type MsgTime } from "../time/msgtime.ts";

/** A job on the queue: archive one hour of one chat type. The queue carries work, never truth. */
export interface HourJob {
  v: 1;
  chatType: ChatType;
  msgTime: MsgTime;
}

const jobSchema = z.strictObject({
  v: z.literal(1),
  chatType: z.enum(CHAT_TYPES),
  msgTime: z.string().refine(isMsgTime, "must be a real Beijing hour YYYYMMDDHH"),
});

/** Parses a queue message body. Anything else is malformed: a ValidationError (dropped, never retried). */
export function parseJob(body: string): HourJob {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new ValidationError("job message is not JSON");
  }
  const parsed = jobSchema.safeParse(value);
  if (!parsed.success) {
    throw new ValidationError("job message is malformed", {
      issues: parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`),
    });
  }
  return parsed.data as HourJob;
}

export function jobId(job: Pick<HourJob, "chatType" | "msgTime">): string {
  return `${job.chatType}-${job.msgTime}`;
}
