import * as v from "valibot";
import { ChatTypeSchema, CountSchema, MsgTimeSchema } from "./common.ts";
import { EvidenceStatusSchema } from "./digest.ts";
import { HOUR_STATUSES } from "./manifest.ts";

/**
 * Archive coverage per hour and chat type (`imvault status`, `GET /v1/status`): what the manifest
 * says, `missing` where there is none, `corrupt` where it cannot be read or parsed; for an hour whose
 * manifest is committed, what its media manifest says.
 */

export const COVERAGE_STATUSES = [...HOUR_STATUSES, "missing", "corrupt"] as const;
export type CoverageStatus = (typeof COVERAGE_STATUSES)[number];

/** An hour's media manifest items by status. */
export const MediaCountsSchema = v.object({
  captured: CountSchema,
  missing: v.pipe(CountSchema, v.description("Tencent no longer had them (get_cos_sig Status 2)")),
  refused: v.pipe(CountSchema, v.description("Not COS media imvault may sign and fetch")),
});
export type MediaCounts = v.InferOutput<typeof MediaCountsSchema>;

export const CoverageMediaSchema = v.pipe(
  v.union([MediaCountsSchema, v.picklist(["pending", "corrupt"])]),
  v.description(
    "The hour's media: its media manifest's items by status, `pending` while its media are not captured yet, `corrupt` when the media manifest cannot be read; absent while the hour's history is not archived",
  ),
);
export type CoverageMedia = v.InferOutput<typeof CoverageMediaSchema>;

export const CoverageRowSchema = v.object({
  msgTime: MsgTimeSchema,
  chatType: ChatTypeSchema,
  status: v.picklist(COVERAGE_STATUSES),
  files: CountSchema,
  bytes: v.pipe(CountSchema, v.description("Stored (gzip) bytes of the hour's files")),
  messages: CountSchema,
  media: v.optional(CoverageMediaSchema),
});
export type CoverageRow = v.InferOutput<typeof CoverageRowSchema>;

/** Rows per status; `corrupt` only appears when some manifest is. */
export const CoverageTotalsSchema = v.object({
  archived: CountSchema,
  empty: CountSchema,
  expired: CountSchema,
  missing: CountSchema,
  corrupt: v.optional(CountSchema),
});
export type CoverageTotals = v.InferOutput<typeof CoverageTotalsSchema>;

export const CoverageSchema = v.object({
  from: MsgTimeSchema,
  to: MsgTimeSchema,
  rows: v.array(CoverageRowSchema),
  totals: CoverageTotalsSchema,
});
export type Coverage = v.InferOutput<typeof CoverageSchema>;

/** The coverage of the last `hours` ended hours, as `GET /v1/status` and `imvault status --json` show it. */
export const RecentCoverageSchema = v.object({
  hours: v.pipe(v.number(), v.integer(), v.minValue(1)),
  ...CoverageSchema.entries,
  /** The chain of digests: its head and the last verification (absent when they cannot be read). */
  evidence: v.optional(EvidenceStatusSchema),
});
export type RecentCoverage = v.InferOutput<typeof RecentCoverageSchema>;
