/**
 * What an export is asked for: one person's, one group's or one conversation's messages over a window
 * of Beijing hours, in one format. It is a message search (search-sql.ts) with a single subject, so
 * that an export holds exactly the rows `imvault search` gives for the same filters.
 */
import * as v from "valibot";
import { ValidationError } from "../errors.ts";
import type { MessageSearch } from "../table/search-sql.ts";
import { hourStart, isMsgTime, type MsgTime } from "../time/msgtime.ts";

export const EXPORT_FORMATS = ["rsmf", "html", "jsonl"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const subject = v.pipe(v.string(), v.minLength(1), v.maxLength(1024));
const hour = v.pipe(v.string(), v.check(isMsgTime, "must be a Beijing hour YYYYMMDDHH"));

/** The filters of `imvault export` and the format: one set of fields for the CLI, the API and the queue. */
const filters = {
  user: v.optional(subject),
  group: v.optional(subject),
  /** A C2C conversation `a|b` (as the table's `conversation` column spells it) or a group id. */
  conversation: v.optional(subject),
  from: v.optional(hour),
  to: v.optional(hour),
  format: v.picklist(EXPORT_FORMATS),
};
const ExportFiltersSchema = v.strictObject(filters);

type Filters = { user?: string; group?: string; conversation?: string; from?: string; to?: string };
const oneSubject = <T extends Filters>() =>
  v.check<T, string>(
    (r) => [r.user, r.group, r.conversation].filter((x) => x !== undefined).length === 1,
    "give exactly one of user, group or conversation",
  );
const ordered = <T extends Filters>() =>
  v.check<T, string>(
    (r) =>
      r.from === undefined ||
      r.to === undefined ||
      // A malformed hour is its own issue (the field's check), not an order.
      !isMsgTime(r.from) ||
      !isMsgTime(r.to) ||
      hourStart(r.from) <= hourStart(r.to),
    "from is after to",
  );

export const ExportRequestSchema = v.pipe(ExportFiltersSchema, oneSubject(), ordered());

/**
 * `POST /v1/exports`' body: the same request with its window (`from` and `to`) required, as a
 * search's is, so that no API call scans the whole table by accident.
 */
export const ExportApiRequestSchema = v.pipe(
  v.strictObject({ ...filters, from: hour, to: hour }),
  oneSubject(),
  ordered(),
);

export type ExportRequest = v.InferOutput<typeof ExportRequestSchema>;

/** The request checked; ValidationError naming each problem. */
export function parseExportRequest(input: unknown): ExportRequest {
  const parsed = v.safeParse(ExportRequestSchema, input);
  if (!parsed.success) {
    throw new ValidationError(
      `the export request is malformed: ${parsed.issues.map((i) => `${v.getDotPath(i) ?? "(request)"}: ${i.message}`).join("; ")}`,
    );
  }
  return Object.fromEntries(
    Object.entries(parsed.output).filter(([, x]) => x !== undefined),
  ) as ExportRequest;
}

/**
 * The message search an export runs. A conversation `a|b` is user a's one-to-one conversation with b
 * (search's --user a --peer b); any other conversation id is a group's.
 */
export function exportSearch(request: ExportRequest): MessageSearch {
  const window: { from?: MsgTime; to?: MsgTime } = {
    ...(request.from === undefined ? {} : { from: request.from }),
    ...(request.to === undefined ? {} : { to: request.to }),
  };
  if (request.user !== undefined) return { user: request.user, ...window };
  if (request.group !== undefined) return { group: request.group, ...window };
  const conversation = request.conversation!;
  const bar = conversation.indexOf("|");
  if (bar > 0 && bar < conversation.length - 1 && conversation.indexOf("|", bar + 1) < 0) {
    return { user: conversation.slice(0, bar), peer: conversation.slice(bar + 1), ...window };
  }
  return { group: conversation, ...window };
}

/** "user alice", "group G1", "conversation alice|bob": what the export is of, for people. */
export function exportSubject(request: ExportRequest): string {
  if (request.user !== undefined) return `user ${request.user}`;
  if (request.group !== undefined) return `group ${request.group}`;
  return `conversation ${request.conversation}`;
}
