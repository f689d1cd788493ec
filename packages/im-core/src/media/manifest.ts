import { buffer } from "node:stream/consumers";
import * as v from "valibot";
import { AlreadyExistsError, IntegrityError, NotFoundError, ValidationError } from "../errors.ts";
import { CHAT_TYPES, type ChatType } from "../im/types.ts";
import type { ArchiveStore, PutOptions } from "../store/port.ts";
import { isMsgTime, type MsgTime } from "../time/msgtime.ts";
import { legacyMediaIndexKeyFor, mediaIndexKeyFor, mediaManifestKey } from "./layout.ts";

/**
 * The media manifest of one hour and chat type (SPEC "Rich media"), written last as the commit point
 * of the hour's media capture, and the index entry kept next to every stored media object.
 */

const size = v.pipe(v.number(), v.integer(), v.minValue(0));
const sha256 = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, "not a SHA-256 in lowercase hex"));
const mediaKeyText = v.pipe(v.string(), v.startsWith("media/"));
/** get_cos_sig's Status: 0 normal, 1 banned (only the PreSigURL reads it), 2 missing. */
const tencentStatus = v.picklist([0, 1, 2]);
const rawUrl = v.pipe(v.string(), v.minLength(1));

/** The bytes are stored at `key`, exactly as served. */
const capturedItem = v.object({
  rawUrl,
  status: v.literal("captured"),
  /**
   * What get_cos_sig said when the bytes were fetched (or, for an object found stored without its
   * index entry, when it was found); absent only if Tencent then answered this item with an error Code.
   */
  tencentStatus: v.optional(tencentStatus),
  key: mediaKeyText,
  size,
  sha256,
  contentType: v.optional(v.string()),
});

/** Tencent no longer has the file (Status 2): nothing was fetched. */
const missingItem = v.object({
  rawUrl,
  status: v.literal("missing"),
  tencentStatus: v.literal(2),
});

/**
 * Not a file get_cos_sig can sign: a host other than the COS media hosts, an unsafe path, or an error
 * Code from Tencent for this item (then `tencentStatus` is what it answered). Nothing was fetched.
 */
const refusedItem = v.object({
  rawUrl,
  status: v.literal("refused"),
  tencentStatus: v.optional(tencentStatus),
  reason: v.string(),
});

export const mediaItemSchema = v.variant("status", [capturedItem, missingItem, refusedItem]);

export const mediaManifestSchema = v.object({
  version: v.literal(1),
  chatType: v.picklist(CHAT_TYPES),
  msgTime: v.pipe(v.string(), v.check(isMsgTime, "not a Beijing hour YYYYMMDDHH")),
  items: v.array(mediaItemSchema),
  capturedAt: v.pipe(v.string(), v.isoTimestamp()),
});

export type MediaItem = v.InferOutput<typeof mediaItemSchema>;
export type MediaItemStatus = MediaItem["status"];
export type CapturedMediaItem = v.InferOutput<typeof capturedItem>;
export type MediaManifest = v.InferOutput<typeof mediaManifestSchema>;

/** What is recorded of one stored media object, at mediaIndexKeyFor(key). */
export const mediaIndexEntrySchema = v.object({
  version: v.literal(1),
  key: mediaKeyText,
  /** The RawURL the bytes were first fetched for. */
  rawUrl,
  size,
  sha256,
  contentType: v.optional(v.string()),
  tencentStatus: v.optional(tencentStatus),
  capturedAt: v.pipe(v.string(), v.isoTimestamp()),
});
export type MediaIndexEntry = v.InferOutput<typeof mediaIndexEntrySchema>;

function parseJson<S extends v.GenericSchema>(
  schema: S,
  text: string,
  what: string,
  key: string,
): v.InferOutput<S> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new IntegrityError(`${what} ${key} is not JSON`, { key });
  }
  const parsed = v.safeParse(schema, value);
  if (!parsed.success) {
    throw new IntegrityError(`${what} ${key} is malformed`, {
      key,
      issues: parsed.issues.slice(0, 5).map((i) => `${v.getDotPath(i) ?? "(root)"}: ${i.message}`),
    });
  }
  return parsed.output;
}

/** A value about to be written, checked against its schema: never a document readers would refuse. */
function checkedValue<S extends v.GenericSchema>(schema: S, value: unknown, what: string): v.InferOutput<S> {
  const parsed = v.safeParse(schema, value);
  if (!parsed.success) {
    throw new ValidationError(`refusing to write a malformed ${what}`, {
      issues: parsed.issues.slice(0, 5).map((i) => `${v.getDotPath(i) ?? "(root)"}: ${i.message}`),
    });
  }
  return parsed.output;
}

export function parseMediaManifest(text: string, key: string): MediaManifest {
  return parseJson(mediaManifestSchema, text, "media manifest", key);
}

async function readJson<S extends v.GenericSchema>(
  store: ArchiveStore,
  key: string,
  parse: (text: string, key: string) => v.InferOutput<S>,
): Promise<v.InferOutput<S> | undefined> {
  try {
    return parse((await buffer(await store.get(key))).toString("utf8"), key);
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

/** The hour's media manifest, or undefined when its media have not been captured yet. */
export function readMediaManifest(
  store: ArchiveStore,
  chatType: ChatType,
  msgTime: MsgTime,
): Promise<MediaManifest | undefined> {
  return readJson<typeof mediaManifestSchema>(store, mediaManifestKey(chatType, msgTime), parseMediaManifest);
}

/** Writes a JSON document only if nothing is at `key` yet; false when something already was. */
async function putOnce(
  store: ArchiveStore,
  key: string,
  value: unknown,
  durability: PutOptions["durability"] = "immediate",
): Promise<boolean> {
  try {
    await store.put(key, `${JSON.stringify(value, null, 2)}\n`, {
      ifNoneMatch: true,
      contentType: "application/json",
      durability,
    });
    return true;
  } catch (err) {
    if (err instanceof AlreadyExistsError) return false;
    throw err;
  }
}

/**
 * Writes the media manifest only if none exists yet (checked against the schema first). Returns false
 * when another worker committed the hour first: its manifest stands.
 */
export async function writeMediaManifest(store: ArchiveStore, manifest: MediaManifest): Promise<boolean> {
  const checked = checkedValue(mediaManifestSchema, manifest, "media manifest");
  return putOnce(store, mediaManifestKey(checked.chatType, checked.msgTime), checked);
}

/**
 * The index entry of the media object at `key` (at mediaIndexKeyFor(key), else where entries were
 * recorded before, legacyMediaIndexKeyFor(key)), or undefined when none was recorded. IntegrityError
 * when the entry found is not one, or is another object's.
 */
export async function readMediaIndexEntry(
  store: ArchiveStore,
  key: string,
): Promise<MediaIndexEntry | undefined> {
  for (const at of [mediaIndexKeyFor(key), legacyMediaIndexKeyFor(key)]) {
    const entry = await readJson<typeof mediaIndexEntrySchema>(store, at, (text) =>
      parseJson(mediaIndexEntrySchema, text, "media index entry", at),
    );
    if (entry === undefined) continue;
    if (entry.key !== key)
      throw new IntegrityError(`media index entry ${at} is of ${entry.key}, not ${key}`, { key: at });
    return entry;
  }
  return undefined;
}

/**
 * Records a stored object's figures once; an entry already there (another worker's) stands. With
 * `durability: "deferred"` the caller makes it durable (store.syncDeferred) before a manifest names it.
 */
export async function writeMediaIndexEntry(
  store: ArchiveStore,
  entry: MediaIndexEntry,
  options: Pick<PutOptions, "durability"> = {},
): Promise<boolean> {
  const checked = checkedValue(mediaIndexEntrySchema, entry, "media index entry");
  return putOnce(store, mediaIndexKeyFor(checked.key), checked, options.durability);
}
