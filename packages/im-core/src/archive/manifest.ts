import { buffer } from "node:stream/consumers";
import * as v from "valibot";
import { AlreadyExistsError, IntegrityError, NotFoundError } from "../errors.ts";
import type { ChatType } from "../im/types.ts";
import { type Manifest, ManifestSchema } from "../schemas/manifest.ts";
import type { ArchiveStore } from "../store/port.ts";
import type { MsgTime } from "../time/msgtime.ts";
import { manifestKey } from "./layout.ts";

// The shapes live with the other data shapes in schemas/; archive code imports them from here.
export type { HourStatus, Manifest, ManifestFile } from "../schemas/manifest.ts";

export function parseManifest(text: string, key: string): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new IntegrityError(`manifest ${key} is not JSON`, { key });
  }
  const parsed = v.safeParse(ManifestSchema, value);
  if (!parsed.success) {
    throw new IntegrityError(`manifest ${key} is malformed`, {
      key,
      issues: parsed.issues.map((i) => `${v.getDotPath(i) ?? "(manifest)"}: ${i.message}`),
    });
  }
  return parsed.output;
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
