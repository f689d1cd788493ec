import { corruptManifestKey } from "../archive/layout.ts";
import { EVIDENCE } from "../schemas/limits.ts";
import type { ArchiveStore, ObjectInfo } from "../store/port.ts";
import { hashStored } from "./object-hash.ts";
import type { Sealing } from "./walk-chain.ts";

/**
 * What verify says of each object: `valid`; `modified` (not the bytes a digest sealed); `missing`;
 * `moved` (the sealed bytes are under another key); `pending` (committed after the head digest, not
 * sealed yet, and younger than EVIDENCE.unsealedGraceMs); `unsealed` (older than that, and no digest
 * seals it).
 */
export type ObjectStatus = "valid" | "modified" | "missing" | "moved" | "pending" | "unsealed";

export interface ObjectCheck {
  key: string;
  kind: "object" | "raw file" | "media file";
  status: ObjectStatus;
  detail?: string;
}

export const isFine = (check: ObjectCheck) => check.status === "valid" || check.status === "pending";

/** A listed object of a sealed prefix, with its SHA-256. */
export interface Listed {
  info: ObjectInfo;
  sha256: string | undefined;
}

/** Table files are derived and may be rebuilt: a newer sealing with other bytes is a rebuild, not tampering. */
const rebuildable = (key: string) => key.startsWith("tables/");

/**
 * The status of a sealed object from its sealings (newest first) and what is stored now. A manifest
 * sealed while corrupt may be replaced by a fresh one (the archiver keeps the corrupt bytes under
 * manifests-corrupt/, named by their SHA-256): that is no tampering, and neither is a rebuilt table.
 */
export async function sealedObjectCheck(
  store: ArchiveStore,
  key: string,
  sealings: readonly Sealing[],
  current: Listed | undefined,
  now: number,
  endOf: (digestKey: string) => number | undefined,
): Promise<ObjectCheck> {
  const newest = sealings[0]!;
  const check = (status: ObjectStatus, detail?: string): ObjectCheck => ({
    key,
    kind: "object",
    status,
    ...(detail === undefined ? {} : { detail }),
  });
  if (current === undefined) return check("missing", `sealed by ${newest.digestKey}`);
  if (current.sha256 !== newest.sha256) {
    const changedAfter =
      current.info.lastModified.getTime() > (endOf(newest.digestKey) ?? Number.POSITIVE_INFINITY);
    const legit = rebuildable(key) || (await keptAsCorrupt(store, key, newest));
    if (changedAfter && legit) {
      const age = now - current.info.lastModified.getTime();
      return age < EVIDENCE.unsealedGraceMs
        ? check("pending", `replaced after ${newest.digestKey}; the next digest seals it`)
        : check("unsealed", `replaced after ${newest.digestKey} and not sealed since`);
    }
    return check("modified", `SHA-256 ${current.sha256}, but ${newest.digestKey} sealed ${newest.sha256}`);
  }
  // Sealed again with other bytes before: each older version must have been replaced legitimately.
  for (const older of sealings.slice(1)) {
    if (older.sha256 === newest.sha256 || rebuildable(key) || (await keptAsCorrupt(store, key, older)))
      continue;
    return check(
      "modified",
      `${older.digestKey} sealed SHA-256 ${older.sha256}; it was replaced, and ${newest.digestKey} sealed the new bytes`,
    );
  }
  return check("valid");
}

/** Whether the sealed bytes were a corrupt manifest the archiver kept aside before replacing it. */
async function keptAsCorrupt(store: ArchiveStore, key: string, sealing: Sealing): Promise<boolean> {
  if (!key.startsWith("manifests/") || sealing.problem === undefined) return false;
  const kept = await hashStored(store, corruptManifestKey(key, sealing.sha256));
  return kept?.sha256 === sealing.sha256;
}

/**
 * An object of a sealed prefix that no digest seals: pending while it is younger than the grace and
 * was committed after the head digest's listing began; otherwise a digest should have sealed it.
 */
export function unsealedCheck(
  listed: Listed,
  now: number,
  head: { key: string; end: number } | undefined,
): ObjectCheck {
  const at = listed.info.lastModified;
  const base = { key: listed.info.key, kind: "object" as const };
  if (head !== undefined && at.getTime() < head.end - EVIDENCE.sealOverlapMs) {
    return {
      ...base,
      status: "unsealed",
      detail: `committed ${at.toISOString()}, before ${head.key}; no digest seals it`,
    };
  }
  const when =
    head !== undefined && at.getTime() < head.end
      ? `just before ${head.key} listed what to seal (within its overlap)`
      : "after the head digest";
  return now - at.getTime() < EVIDENCE.unsealedGraceMs
    ? {
        ...base,
        status: "pending",
        detail: `committed ${at.toISOString()}, ${when}: the next digest seals it`,
      }
    : {
        ...base,
        status: "unsealed",
        detail: `committed ${at.toISOString()}; no digest seals it (over ${EVIDENCE.unsealedGraceMs / 3_600_000} hours)`,
      };
}

/**
 * Marks each missing check `moved` when the bytes it sealed (`sha256`, `size`) are stored under
 * another key among `candidates`, hashing only candidates of the same size.
 */
export async function findMoved(
  store: ArchiveStore,
  missing: { check: ObjectCheck; sha256: string; size: number }[],
  candidates: Iterable<Listed>,
): Promise<Set<string>> {
  const movedTo = new Set<string>();
  if (missing.length === 0) return movedTo;
  const bySize = new Map<number, Listed[]>();
  for (const c of candidates) bySize.set(c.info.size, [...(bySize.get(c.info.size) ?? []), c]);
  for (const m of missing) {
    for (const candidate of bySize.get(m.size) ?? []) {
      candidate.sha256 ??= (await hashStored(store, candidate.info.key))?.sha256;
      if (candidate.sha256 !== m.sha256) continue;
      m.check.status = "moved";
      m.check.detail = `moved to ${candidate.info.key} (${m.check.detail ?? "sealed"})`;
      movedTo.add(candidate.info.key);
      break;
    }
  }
  return movedTo;
}
