import * as v from "valibot";
import { mediaItemSchema } from "../media/manifest.ts";
import { ChatTypeSchema, CountSchema, MsgTimeSchema, TimestampSchema } from "./common.ts";

/**
 * Captured media as the API shows them: an hour's media (`GET /v1/archive/{chatType}/{msgTime}`) and
 * one archived object (`GET /v1/media?rawUrl=…`). The items are the media manifest's own schema.
 */

export const MediaItemSchema = mediaItemSchema;

export const HourMediaSchema = v.pipe(
  v.union([
    v.object({
      capturedAt: TimestampSchema,
      items: v.pipe(
        v.array(MediaItemSchema),
        v.description("One per distinct media URL of the hour's messages, in the order they first appear"),
      ),
    }),
    v.picklist(["pending", "corrupt"]),
  ]),
  v.description(
    "The hour's media manifest, `pending` while its media are not captured yet, `corrupt` when it cannot be read",
  ),
);
export type HourMedia = v.InferOutput<typeof HourMediaSchema>;

/** Get_cos_sig's Status when the bytes were fetched: 0 normal, 1 banned (only a PreSigURL read it). */
const TencentStatusSchema = v.pipe(v.picklist([0, 1, 2]), v.description("0 normal, 1 banned, 2 missing"));

export const MediaLookupSchema = v.object({
  rawUrl: v.pipe(v.string(), v.description("The RawURL asked for")),
  status: v.literal("captured"),
  key: v.pipe(v.string(), v.startsWith("media/"), v.description("Where the bytes are stored")),
  size: CountSchema,
  sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
  contentType: v.optional(v.string()),
  tencentStatus: v.optional(TencentStatusSchema),
  capturedAt: TimestampSchema,
  url: v.pipe(v.string(), v.description("Short-lived download URL of the stored bytes")),
  expiresAt: TimestampSchema,
});
export type MediaLookup = v.InferOutput<typeof MediaLookupSchema>;

/** One captured media object Tencent reported banned (get_cos_sig Status 1) when it was fetched. */
export const BannedMediaItemSchema = v.object({
  chatType: ChatTypeSchema,
  msgTime: MsgTimeSchema,
  rawUrl: v.pipe(v.string(), v.description("The media URL as the hour's messages hold it")),
  key: v.pipe(v.string(), v.startsWith("media/"), v.description("Where the bytes are stored")),
  size: CountSchema,
  sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
  contentType: v.optional(v.string()),
});
export type BannedMediaItem = v.InferOutput<typeof BannedMediaItemSchema>;

/**
 * `GET /v1/media/banned?from=&to=`: the captured media of the window's hours that Tencent reported
 * banned, read from their media manifests; no URL (each object's short-lived URL is `GET /v1/media`).
 */
export const BannedMediaSchema = v.object({
  from: MsgTimeSchema,
  to: MsgTimeSchema,
  items: v.pipe(
    v.array(BannedMediaItemSchema),
    v.description("Oldest hour first, C2C before Group, in each hour's manifest order"),
  ),
  hours: v.pipe(
    v.object({ captured: CountSchema, pending: CountSchema, corrupt: CountSchema }),
    v.description(
      "Hours × chat types of the window whose media manifest was read, is not written (yet), or cannot be read",
    ),
  ),
});
export type BannedMedia = v.InferOutput<typeof BannedMediaSchema>;
