import { randomBytes } from "node:crypto";
import * as v from "valibot";
import { manifestKey, rawHourPrefix } from "../archive/layout.ts";
import { AlreadyExistsError, NotFoundError, ValidationError } from "../errors.ts";
import { mediaManifestKey } from "../media/layout.ts";
import { mediaManifestSchema } from "../media/manifest.ts";
import { type HoldRecord, HoldRecordSchema, type HoldScope } from "../schemas/hold.ts";
import type { ArchiveStore } from "../store/port.ts";
import { hourParts, hourRange } from "../time/msgtime.ts";
import { type FindMessages, messageHoldKeys } from "./holds-by-messages.ts";
import { HOLDS_PREFIX } from "./layout.ts";
import { mapLimit, readStored } from "./object-hash.ts";

/**
 * Legal holds: everything the archive holds of a scope placed under a legal hold (S3: a legal hold on
 * each object version; locally enforced by the store), and each hold placed or released recorded as a
 * create-only object under holds/, which the next digest seals. A hold has no expiry: it stays until
 * released. Objects committed into the scope after the hold was placed are not held by it: place it
 * again to cover them.
 */

export const holdKey = (id: string, action: HoldRecord["action"]) =>
  `${HOLDS_PREFIX}${id}${action === "release" ? ".release" : ""}.json`;

function newHoldId(nowMs: number): string {
  const stamp = new Date(nowMs)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
  return `${stamp}-${randomBytes(3).toString("hex")}`;
}

/** What a hold by user or group reads the message table with; without it only windows can be held. */
export interface HoldDeps {
  findMessages?: FindMessages | undefined;
}

/**
 * Every stored key a scope covers. For a window: each hour's manifest and raw files, its media
 * manifest and the media it captured, and its message table files. For a user or group: what holds
 * their messages, found through the message table (holds-by-messages.ts).
 */
export async function holdKeys(
  store: ArchiveStore,
  scope: HoldScope,
  deps: HoldDeps = {},
): Promise<string[]> {
  if (scope.kind !== "window") return [...(await messageHoldKeys(store, scope, deps.findMessages))].sort();
  const keys = new Set<string>();
  for (const msgTime of hourRange(scope.from, scope.to)) {
    for (const chatType of scope.chatTypes) {
      const { dt, hour } = hourParts(msgTime);
      for (const key of [manifestKey(chatType, msgTime), mediaManifestKey(chatType, msgTime)]) {
        if ((await store.head(key)) !== undefined) keys.add(key);
      }
      for (const prefix of [
        rawHourPrefix(chatType, msgTime),
        `tables/messages/chat_type=${chatType}/dt=${dt}/hour=${hour}/`,
      ]) {
        for await (const obj of store.list(prefix)) keys.add(obj.key);
      }
      for (const key of await capturedMedia(store, mediaManifestKey(chatType, msgTime))) keys.add(key);
    }
  }
  return [...keys].sort();
}

async function capturedMedia(store: ArchiveStore, key: string): Promise<string[]> {
  const bytes = await readStored(store, key);
  if (bytes === undefined) return [];
  try {
    const parsed = v.safeParse(mediaManifestSchema, JSON.parse(bytes.toString("utf8")));
    if (!parsed.success) return [];
    return parsed.output.items.flatMap((item) => (item.status === "captured" ? [item.key] : []));
  } catch {
    return [];
  }
}

/** Every hold record in the store, oldest first; records that are not holds are skipped. */
export async function holdRecords(store: ArchiveStore): Promise<HoldRecord[]> {
  const records: HoldRecord[] = [];
  for await (const obj of store.list(HOLDS_PREFIX)) {
    const bytes = await readStored(store, obj.key);
    try {
      const parsed = v.safeParse(HoldRecordSchema, JSON.parse(bytes?.toString("utf8") ?? "null"));
      if (parsed.success && obj.key === holdKey(parsed.output.id, parsed.output.action))
        records.push(parsed.output);
    } catch {
      // not JSON: not a hold record (verify reports what no digest seals, or what changed)
    }
  }
  return records;
}

export interface HoldSummary {
  id: string;
  scope: HoldScope;
  reason?: string;
  placedAt: string;
  keys: number;
  releasedAt?: string;
}

/** The holds, each with its placing and (if released) its release. */
export async function listHolds(store: ArchiveStore): Promise<HoldSummary[]> {
  const records = await holdRecords(store);
  const released = new Map(records.filter((r) => r.action === "release").map((r) => [r.id, r.at]));
  return records
    .filter((r) => r.action === "place")
    .map((r) => ({
      id: r.id,
      scope: r.scope,
      ...(r.reason === undefined ? {} : { reason: r.reason }),
      placedAt: r.at,
      keys: r.keys.length,
      ...(released.has(r.id) ? { releasedAt: released.get(r.id)! } : {}),
    }));
}

async function writeRecord(store: ArchiveStore, record: HoldRecord): Promise<void> {
  await store.put(holdKey(record.id, record.action), `${JSON.stringify(record, null, 2)}\n`, {
    ifNoneMatch: true,
    contentType: "application/json",
  });
}

/** Places a hold on everything the scope covers, then records it. Answers the record. */
export async function placeHold(
  store: ArchiveStore,
  scope: HoldScope,
  options: { reason?: string; now: number },
  deps: HoldDeps = {},
): Promise<HoldRecord> {
  const keys = await holdKeys(store, scope, deps);
  if (keys.length === 0) {
    const what = scope.kind === "window" ? "in that window" : `of that ${scope.kind}`;
    throw new ValidationError(`nothing is archived ${what}: no hold placed`, { scope });
  }
  await mapLimit(keys, 8, (key) => store.setLegalHold(key, true));
  const record: HoldRecord = {
    version: 1,
    id: newHoldId(options.now),
    action: "place",
    scope,
    ...(options.reason === undefined ? {} : { reason: options.reason }),
    at: new Date(options.now).toISOString(),
    keys,
  };
  await writeRecord(store, record);
  return record;
}

/**
 * Lifts a hold from the keys no other active hold covers, then records the release. Answers the
 * record and how many keys stay held by other holds.
 */
export async function releaseHold(
  store: ArchiveStore,
  id: string,
  options: { reason?: string; now: number },
): Promise<{ record: HoldRecord; keptByOthers: number }> {
  const records = await holdRecords(store);
  const placed = records.find((r) => r.id === id && r.action === "place");
  if (placed === undefined)
    throw new NotFoundError(`no hold ${id} (\`imvault hold list\` shows them)`, { details: { id } });
  const released = new Set(records.filter((r) => r.action === "release").map((r) => r.id));
  if (released.has(id)) throw new ValidationError(`hold ${id} was released already`, { id });
  const others = new Set(
    records.filter((r) => r.action === "place" && r.id !== id && !released.has(r.id)).flatMap((r) => r.keys),
  );
  const lift = placed.keys.filter((key) => !others.has(key));
  await mapLimit(lift, 8, async (key) => {
    await store.setLegalHold(key, false).catch((error: unknown) => {
      if (!(error instanceof NotFoundError)) throw error;
    });
  });
  const record: HoldRecord = {
    version: 1,
    id,
    action: "release",
    scope: placed.scope,
    ...(options.reason === undefined ? {} : { reason: options.reason }),
    at: new Date(options.now).toISOString(),
    keys: lift,
  };
  try {
    await writeRecord(store, record);
  } catch (error) {
    if (error instanceof AlreadyExistsError)
      throw new ValidationError(`hold ${id} was released already`, { id });
    throw error;
  }
  return { record, keptByOthers: placed.keys.length - lift.length };
}
