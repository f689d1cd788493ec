import * as v from "valibot";
import { ChatTypeSchema, MsgTimeSchema, TimestampSchema } from "./common.ts";

/**
 * Legal hold records (`imvault hold`): one create-only object under holds/ each time a hold is placed
 * or released, sealed by the next digest like a manifest, so that the chain shows every hold.
 */

/**
 * What a hold covers: a window of hours and chat types, or what the message table (tables/messages)
 * holds of one account's messages (sent or received) or one group's, within a window if one is given.
 */
const account = v.pipe(v.string(), v.minLength(1), v.maxLength(1024));
export const HoldScopeSchema = v.variant("kind", [
  v.object({
    kind: v.literal("window"),
    from: MsgTimeSchema,
    to: MsgTimeSchema,
    chatTypes: v.array(ChatTypeSchema),
  }),
  v.object({
    kind: v.literal("user"),
    user: account,
    from: v.optional(MsgTimeSchema),
    to: v.optional(MsgTimeSchema),
    chatTypes: v.array(ChatTypeSchema),
  }),
  v.object({
    kind: v.literal("group"),
    group: account,
    from: v.optional(MsgTimeSchema),
    to: v.optional(MsgTimeSchema),
  }),
]);
export type HoldScope = v.InferOutput<typeof HoldScopeSchema>;

export const HoldRecordSchema = v.object({
  version: v.literal(1),
  /** The hold's id: its placing time (UTC, compact) and a random suffix. */
  id: v.pipe(v.string(), v.regex(/^\d{8}T\d{6}Z-[0-9a-f]{6}$/)),
  action: v.picklist(["place", "release"]),
  scope: HoldScopeSchema,
  reason: v.optional(v.string()),
  at: TimestampSchema,
  /** The keys the hold was placed on (place), or lifted from (release: those no other hold keeps). */
  keys: v.array(v.string()),
});
export type HoldRecord = v.InferOutput<typeof HoldRecordSchema>;
