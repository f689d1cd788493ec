import * as v from "valibot";
import { ChatTypeSchema, CountSchema, Md5Schema, MsgTimeSchema, Sha256Schema } from "./common.ts";

/** The manifest: an hour's commit point and the only state imvault keeps (SPEC "Storage layout"). */

export const HOUR_STATUSES = ["archived", "empty", "expired"] as const;
export type HourStatus = (typeof HOUR_STATUSES)[number];

/** One verified file of an archived hour. */
export const ManifestFileSchema = v.object({
  key: v.pipe(v.string(), v.minLength(1), v.description("Where the file is stored, under raw/")),
  sourceUrl: v.pipe(v.string(), v.description("Tencent's download URL, without its query string")),
  gzipSize: CountSchema,
  gzipMd5: Md5Schema,
  fileSize: CountSchema,
  fileMd5: Md5Schema,
  messageCount: CountSchema,
  // Optional: manifests written before SHA-256 was recorded stay valid; a digest then hashes the stored file.
  gzipSha256: v.optional(v.pipe(Sha256Schema, v.description("SHA-256 of the GZip bytes as stored"))),
  fileSha256: v.optional(v.pipe(Sha256Schema, v.description("SHA-256 of the plain (inflated) bytes"))),
  framingProblem: v.optional(
    v.pipe(
      v.string(),
      v.description("Present when the file matched Tencent's figures but not the documented line layout"),
    ),
  ),
});
export type ManifestFile = v.InferOutput<typeof ManifestFileSchema>;

export const ManifestSchema = v.object({
  version: v.literal(1),
  chatType: ChatTypeSchema,
  msgTime: MsgTimeSchema,
  status: v.picklist(HOUR_STATUSES),
  files: v.array(ManifestFileSchema),
  // Not held to a format when read: a manifest is committed data, and its files are what matters.
  archivedAt: v.pipe(v.string(), v.metadata({ format: "date-time" })),
});
export type Manifest = v.InferOutput<typeof ManifestSchema>;
