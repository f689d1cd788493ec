import * as v from "valibot";
import { TimestampSchema } from "./common.ts";
import { ManifestSchema } from "./manifest.ts";
import { HourMediaSchema } from "./media.ts";

/**
 * `GET /v1/archive/{chatType}/{msgTime}`: an archived hour's manifest, download links of its files, and
 * its media (the media manifest's items; `GET /v1/media` gives an object's download link).
 */

export const FileDownloadSchema = v.object({
  key: v.string(),
  url: v.pipe(v.string(), v.description("Short-lived download URL of the stored file")),
  expiresAt: TimestampSchema,
});
export type FileDownload = v.InferOutput<typeof FileDownloadSchema>;

export const ArchivedHourViewSchema = v.object({
  manifest: ManifestSchema,
  downloads: v.pipe(
    v.array(FileDownloadSchema),
    v.description("One per manifest file, in the same order; empty for an empty or expired hour"),
  ),
  media: HourMediaSchema,
});
export type ArchivedHourView = v.InferOutput<typeof ArchivedHourViewSchema>;
