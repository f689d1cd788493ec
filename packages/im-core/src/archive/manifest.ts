import { buffer } from "node:stream/consumers";
import { z } from "zod";
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

const md5 = z.string().regex(/^[0-9a-f]{32}$/);
const size = z.number().int().nonnegative();
const manifestSchema = z.looseObject({
  version: z.literal(1),
  chatType: z.enum(CHAT_TYPES),
  msgTime: z.string().regex(/^\d{10}$/),
  status: z.enum(["archived", "empty", "expired"]),
  files: z.array(
    z.looseObject({
      key: z.string().min(1),
      sourceUrl: z.string(),
      gzipSize: size,
      gzipMd5: md5,
      fileSize: size,
      fileMd5: md5,
      messageCount: size,
    }),
  ),
  archivedAt: z.string(),
});

export function parseManifest(text: string, key: string): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new IntegrityError(`manifest ${key} is not JSON`, { key });
  }
  const parsed = manifestSchema.safeParse(value);
  if (!parsed.success) {
    throw new IntegrityError(`manifest ${key} is malformed`, {
      key,
      issues: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`),
    });
  }
  return parsed.data as Manifest;
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
