import { buffer } from "node:stream/consumers";
import * as v from "valibot";
import { AlreadyExistsError, IntegrityError, NotFoundError } from "../errors.ts";
import { CHAT_TYPES, type ChatType } from "../im/types.ts";
import type { ArchiveStore } from "../store/port.ts";
import type { MsgTime } from "../time/msgtime.ts";
import { manifestKey } from "./layout.ts";

/** One verified file of an archived hour, as the manifest records it. */
export interface ManifestFile {
  key: string;
  sourceUrl: string;
  gzipSize: number;
  gzipMd5: string;
  fileSize: number;
  fileMd5: string;
  messageCount: number;
  /** Present when the file matched Tencent's figures but not the documented line layout. */
  framingProblem?: string;
}

export type HourStatus = "archived" | "empty" | "expired";

/** The commit point of an hour, and the only state imvault keeps. */
export interface Manifest {
  version: 1;
  chatType: ChatType;
  msgTime: MsgTime;
  status: HourStatus;
  files: ManifestFile[];
  archivedAt: string;
}

const md5 = v.pipe(v.string(), v.regex(/^[0-9a-f]{32}$/));
const size = v.pipe(v.number(), v.integer(), v.minValue(0));
const manifestSchema = v.looseObject({
  version: v.literal(1),
  chatType: v.picklist(CHAT_TYPES),
  msgTime: v.pipe(v.string(), v.regex(/^\d{10}$/)),
  status: v.picklist(["archived", "empty", "expired"]),
  files: v.array(
    v.looseObject({
      key: v.pipe(v.string(), v.minLength(1)),
      sourceUrl: v.string(),
      gzipSize: size,
      gzipMd5: md5,
      fileSize: size,
      fileMd5: md5,
      messageCount: size,
    }),
  ),
  archivedAt: v.string(),
});

export function parseManifest(text: string, key: string): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new IntegrityError(`manifest ${key} is not JSON`, { key });
  }
  const parsed = v.safeParse(manifestSchema, value);
  if (!parsed.success) {
    throw new IntegrityError(`manifest ${key} is malformed`, {
      key,
      issues: parsed.issues.map((i) => `${v.getDotPath(i) ?? "(manifest)"}: ${i.message}`),
    });
  }
  return parsed.output as Manifest;
}

/** The hour's manifest, or undefined when the hour has not been archived yet. */
export async function readManifest(
  store: ArchiveStore,
  chatType: ChatType,
  msgTime: MsgTime,
): Promise<Manifest | undefined> {
  const key = manifestKey(chatType, msgTime);
  try {
    return parseManifest((await buffer(await store.get(key))).toString("utf8"), key);
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

/**
 * Writes the manifest only if none exists yet. Returns false when another worker committed the
 * hour first (a duplicated job): its manifest stands and this one is not written.
 */
export async function writeManifest(store: ArchiveStore, manifest: Manifest): Promise<boolean> {
  const key = manifestKey(manifest.chatType, manifest.msgTime);
  try {
    await store.put(key, `${JSON.stringify(manifest, null, 2)}\n`, {
      ifNoneMatch: true,
      contentType: "application/json",
    });
    return true;
  } catch (err) {
    if (err instanceof AlreadyExistsError) return false;
    throw err;
  }
}
