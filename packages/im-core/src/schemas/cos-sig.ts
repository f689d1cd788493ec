import * as v from "valibot";
import { TimestampSchema } from "./common.ts";

/**
 * `POST /v1/cos-sig`: exactly Tencent's get_cos_sig body, and its PreSigURLs items plus what imvault
 * adds. The messages of the item schemas are the problems the API lists per bad item
 * (lookup/validate-cos-sig.ts runs them with `abortPipeEarly`: one problem per field).
 */

/** Tencent's URLs are ~150 characters; 2 KiB leaves room and keeps a batch's size bounded. */
export const MAX_RAW_URL_LENGTH = 2048;
export const MAX_RESOURCE_ID = 0xffffffff;

const RESOURCE_ID_PROBLEM = `ResourceID must be an integer from 0 to ${MAX_RESOURCE_ID}`;

export const ResourceIdSchema = v.pipe(
  v.number(RESOURCE_ID_PROBLEM),
  v.integer(RESOURCE_ID_PROBLEM),
  v.minValue(0, RESOURCE_ID_PROBLEM),
  v.maxValue(MAX_RESOURCE_ID, RESOURCE_ID_PROBLEM),
  v.description("Unique within the request"),
);

/** True for a URL without user or password (and for text that is no URL: v.url reports that). */
function hasNoCredentials(raw: string): boolean {
  const url = URL.parse(raw);
  return url === null || (url.username === "" && url.password === "");
}

/** The URL's shape; which hosts are allowed is configuration (COS_URL_HOSTS), checked after it. */
export const RawUrlSchema = v.pipe(
  v.string("RawURL must be a string"),
  v.nonEmpty("RawURL is empty"),
  v.maxLength(
    MAX_RAW_URL_LENGTH,
    (issue) => `RawURL is ${(issue.input as string).length} characters, more than ${MAX_RAW_URL_LENGTH}`,
  ),
  v.url("RawURL is not an absolute URL"),
  v.check(hasNoCredentials, "RawURL must not carry credentials"),
  v.description("https on an allowed host (default *.myqcloud.com and the IM download hosts)"),
);

export const CosSigRequestItemSchema = v.strictObject({
  ResourceID: ResourceIdSchema,
  RawURL: RawUrlSchema,
});
export type CosSigRequestItem = v.InferOutput<typeof CosSigRequestItemSchema>;

/** The request body with at most `maxItems` items (MAX_ITEMS). */
export function cosSigRequestSchema(maxItems: number) {
  return v.strictObject({
    RawURLs: v.pipe(v.array(CosSigRequestItemSchema), v.minLength(1), v.maxLength(maxItems)),
  });
}
export type CosSigRequest = v.InferOutput<ReturnType<typeof cosSigRequestSchema>>;

const IntSchema = v.pipe(v.number(), v.integer());

/** One item of Tencent's get_cos_sig answer, as Tencent documents it. */
export const PreSigUrlItemSchema = v.object({
  ResourceID: IntSchema,
  Code: v.pipe(IntSchema, v.description("0, or Tencent's error code for this item")),
  Desc: v.string(),
  PreSigURL: v.pipe(v.string(), v.description("FULL_CONTROL URL, valid about 15 minutes")),
  Status: v.pipe(IntSchema, v.description("0 normal, 1 banned, 2 missing")),
});

export const COS_STATUS_TEXTS = ["normal", "banned", "missing"] as const;
export type CosStatusText = (typeof COS_STATUS_TEXTS)[number];

/** One answer item: Tencent's, plus StatusText (Status in words) and ExpiresAt. */
export const CosSigResultSchema = v.object({
  ...PreSigUrlItemSchema.entries,
  StatusText: v.picklist([...COS_STATUS_TEXTS, "unknown"]),
  ExpiresAt: v.pipe(
    TimestampSchema,
    v.description(
      "When the PreSigURL stops working (15 minutes after the answer, or Tencent's im-time-expired)",
    ),
  ),
});
export type CosSigResult = v.InferOutput<typeof CosSigResultSchema>;

export const CosSigResponseSchema = v.object({
  PreSigURLs: v.pipe(v.array(CosSigResultSchema), v.description("One per item, in the request's order")),
});
export type CosSigResponse = v.InferOutput<typeof CosSigResponseSchema>;
