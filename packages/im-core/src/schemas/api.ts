import * as v from "valibot";

/** What the HTTP API answers besides the data: its error body and its health answer. */

export const API_ERROR_CODES = [
  "invalid_request",
  "unauthorized",
  "not_found",
  "manifest_corrupt",
  "method_not_allowed",
  "payload_too_large",
  "headers_too_large",
  "rate_limited",
  "upstream_error",
  "upstream_timeout",
  "internal_error",
] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

/** Every error answer: `{"error":{"code","message","details"?}}`. */
export const ErrorBodySchema = v.object({
  error: v.object({
    code: v.picklist(API_ERROR_CODES),
    message: v.string(),
    details: v.optional(
      v.pipe(
        v.record(v.string(), v.unknown()),
        v.description("What the message is about, e.g. items: every bad RawURLs item of a 400"),
      ),
    ),
  }),
});
export type ErrorBody = v.InferOutput<typeof ErrorBodySchema>;

export const HealthSchema = v.object({ status: v.literal("ok") });
export type Health = v.InferOutput<typeof HealthSchema>;
