/**
 * Slices: one conversation on one Beijing day, split into parts past EXPORT_LIMITS.maxEventsPerSlice
 * messages (Relativity's advice for RSMF, kept for every format so that a page stays readable).
 */
import { createHash } from "node:crypto";
import type { ChatType } from "../im/types.ts";
import type { SliceCount } from "./source.ts";
import type { Slice } from "./writers/types.ts";

export function sliceKey(dt: string, chatType: ChatType, conversation: string | null): string {
  return `${dt}\u0000${chatType}\u0000${conversation ?? ""}`;
}

/**
 * A file name that says which slice it is and cannot collide with another: the day, the chat type,
 * the conversation reduced to safe characters, and a hash of the conversation as it is.
 */
export function sliceName(
  dt: string,
  chatType: ChatType,
  conversation: string | null,
  part: number,
  parts: number,
): string {
  const conv = conversation ?? "";
  const safe = conv.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 60) || "none";
  const hash = createHash("sha256").update(conv).digest("hex").slice(0, 8);
  const suffix = parts > 1 ? `_part${String(part).padStart(3, "0")}` : "";
  return `${dt}_${chatType}_${safe}_${hash}${suffix}`;
}

/** How many parts each slice key has, from the per-day, per-conversation counts. */
export function partsByKey(counts: readonly SliceCount[], maxEvents: number): Map<string, number> {
  const parts = new Map<string, number>();
  for (const c of counts) {
    parts.set(sliceKey(c.dt, c.chatType, c.conversation), Math.max(1, Math.ceil(c.messages / maxEvents)));
  }
  return parts;
}

export function makeSlice(
  dt: string,
  chatType: ChatType,
  conversation: string | null,
  part: number,
  parts: number,
): Slice {
  return {
    name: sliceName(dt, chatType, conversation, part, parts),
    dt,
    chatType,
    conversation,
    part,
    parts,
  };
}
