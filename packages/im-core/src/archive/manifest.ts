import { createHash } from "node:crypto";
import { buffer } from "node:stream/consumers";
import * as v from "valibot";
import { AlreadyExistsError, CorruptManifestError, NotFoundError } from "../errors.ts";
import type { ChatType } from "../im/types.ts";
import { type Manifest, ManifestSchema } from "../schemas/manifest.ts";
import type { ArchiveStore } from "../store/port.ts";
import type { MsgTime } from "../time/msgtime.ts";
import type { Logger } from "../util/log.ts";
import { METRIC, type Metrics, noMetrics } from "../util/metrics.ts";
import { corruptManifestKey, manifestKey } from "./layout.ts";

// The shapes live with the other data shapes in schemas/; archive code imports them from here.
export type { HourStatus, Manifest, ManifestFile } from "../schemas/manifest.ts";

/** The manifest in `text`; CorruptManifestError (naming `key`) when it is not JSON or not a manifest. */
export function parseManifest(text: string, key: string): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CorruptManifestError(key, "not JSON");
  }
  const parsed = v.safeParse(ManifestSchema, value);
  if (!parsed.success) {
    throw new CorruptManifestError(key, "malformed", {
      issues: parsed.issues.map((i) => `${v.getDotPath(i) ?? "(manifest)"}: ${i.message}`),
    });
  }
  return parsed.output;
}

/** The object's bytes, or undefined when there is none. */
async function readBytes(store: ArchiveStore, key: string): Promise<Buffer | undefined> {
  try {
    return await buffer(await store.get(key));
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

/**
 * The hour's manifest, or undefined when the hour has not been archived yet. A manifest that is not
 * JSON or not a manifest throws CorruptManifestError.
 */
export async function readManifest(
  store: ArchiveStore,
  chatType: ChatType,
  msgTime: MsgTime,
): Promise<Manifest | undefined> {
  const key = manifestKey(chatType, msgTime);
  const bytes = await readBytes(store, key);
  return bytes === undefined ? undefined : parseManifest(bytes.toString("utf8"), key);
}

/**
 * The hour's manifest as the archive job sees it: undefined when there is none, and also when the
 * one stored is corrupt, which is no commit. That one is logged and counted (CorruptManifests), and
 * the job archives the hour again; writeManifest keeps its bytes aside before replacing them.
 */
export async function committedManifest(
  deps: { store: ArchiveStore; logger: Logger; metrics?: Metrics | undefined },
  chatType: ChatType,
  msgTime: MsgTime,
): Promise<Manifest | undefined> {
  const key = manifestKey(chatType, msgTime);
  const bytes = await readBytes(deps.store, key);
  if (bytes === undefined) return undefined;
  try {
    return parseManifest(bytes.toString("utf8"), key);
  } catch (err) {
    if (!(err instanceof CorruptManifestError)) throw err;
    (deps.metrics ?? noMetrics).count(METRIC.corruptManifests);
    deps.logger.error("corrupt manifest: archiving the hour again; its bytes are kept aside first", {
      chatType,
      msgTime,
      key,
      problem: err.message,
      ...(err.details?.issues === undefined ? {} : { issues: err.details.issues }),
      setAsideAs: corruptManifestKey(key, sha256(bytes)),
    });
    return undefined;
  }
}

/**
 * Writes the manifest only if no manifest is committed yet. Returns false when another worker
 * committed the hour first (a duplicated job): its manifest stands and this one is not written.
 *
 * A corrupt manifest in the way is no commit: its bytes are first kept under manifests-corrupt/ (see
 * corruptManifestKey), then this manifest replaces it. Between reading the corrupt bytes and the
 * replacement another worker may commit the same hour; this one then replaces an equivalent valid
 * manifest (both verified against Tencent's figures). Only a store with conditional replacement
 * (If-Match) could close that window.
 */
export async function writeManifest(store: ArchiveStore, manifest: Manifest): Promise<boolean> {
  const key = manifestKey(manifest.chatType, manifest.msgTime);
  const body = `${JSON.stringify(manifest, null, 2)}\n`;
  if (await putIfAbsent(store, key, body)) return true;
  const current = await readBytes(store, key);
  if (current === undefined) return putIfAbsent(store, key, body);
  try {
    parseManifest(current.toString("utf8"), key);
    return false;
  } catch (err) {
    if (!(err instanceof CorruptManifestError)) throw err;
  }
  try {
    await store.put(corruptManifestKey(key, sha256(current)), current, { ifNoneMatch: true });
  } catch (err) {
    // The same bytes were kept already (the key is their hash).
    if (!(err instanceof AlreadyExistsError)) throw err;
  }
  await store.put(key, body, { contentType: "application/json" });
  return true;
}

async function putIfAbsent(store: ArchiveStore, key: string, body: string): Promise<boolean> {
  try {
    await store.put(key, body, { ifNoneMatch: true, contentType: "application/json" });
    return true;
  } catch (err) {
    if (err instanceof AlreadyExistsError) return false;
    throw err;
  }
}

function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}
