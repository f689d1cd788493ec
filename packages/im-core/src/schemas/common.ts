import * as v from "valibot";
import { ValidationError } from "../errors.ts";
import { CHAT_TYPES, type ChatType } from "../im/types.ts";

/** Building blocks the data shapes share (chat type, hour, sizes, digests, instants). */

export const ChatTypeSchema = v.picklist(CHAT_TYPES);

/** Tencent's MsgTime: one hour as YYYYMMDDHH, Beijing time (time/msgtime.ts checks the date is real). */
export const MsgTimeSchema = v.pipe(
  v.string(),
  v.regex(/^\d{10}$/),
  v.description("The hour as YYYYMMDDHH, Beijing time (UTC+8)"),
);

/** A whole number of bytes, files or messages. */
export const CountSchema = v.pipe(v.number(), v.integer(), v.minValue(0));

/** An MD5 digest in lower-case hex, as imvault records it. */
export const Md5Schema = v.pipe(v.string(), v.regex(/^[0-9a-f]{32}$/));

/** A SHA-256 digest in lower-case hex. */
export const Sha256Schema = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, "not a SHA-256 in lower-case hex"));

/** An instant as Date.prototype.toISOString writes it. */
export const TimestampSchema = v.pipe(v.string(), v.isoTimestamp());

/**
 * A chat type as a person or a URL may write it: `C2C`/`Group` in any letter case, answered in
 * Tencent's spelling. The CLI's --chat-type and the API's path parameter both go through here.
 */
export function parseChatType(text: string): ChatType {
  const match = CHAT_TYPES.find((c) => c.toLowerCase() === text.toLowerCase());
  if (match === undefined) {
    throw new ValidationError(`chatType "${text}" is not one of ${CHAT_TYPES.join(", ")} (any letter case)`, {
      chatType: text,
    });
  }
  return match;
}
