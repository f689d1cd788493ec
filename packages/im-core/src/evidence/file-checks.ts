import * as v from "valibot";
import type { VerifyReport } from "../archive/verify-archive.ts";
import { mediaManifestSchema } from "../media/manifest.ts";
import type { VerificationRecord } from "../schemas/digest.ts";
import type { ArchiveStore } from "../store/port.ts";
import { readDigest } from "./digest-file.ts";
import type { Listed, ObjectCheck } from "./object-checks.ts";
import { hashStored, mapLimit, readStored } from "./object-hash.ts";
import type { ChainWalk } from "./walk-chain.ts";

type Missing = { check: ObjectCheck; sha256: string; size: number };

/**
 * The raw files the digests seal: what verifyArchive found reading each one through its manifest, or,
 * for a file no current manifest names any more (the manifest was changed or deleted), its bytes
 * hashed here. Pushes one check per sealed file; answers the missing ones, for findMoved.
 */
export async function rawFileChecks(
  store: ArchiveStore,
  walk: ChainWalk,
  files: VerifyReport,
  results: ReadonlyMap<string, boolean>,
  inScope: (manifestKey: string) => boolean,
  out: ObjectCheck[],
): Promise<Missing[]> {
  const problems = new Map(files.problems.map((p) => [p.key, p]));
  const missing: Missing[] = [];
  const sealed = [...walk.sealedFiles].filter(([, f]) => inScope(f.manifest));
  const checks = await mapLimit(sealed, 4, async ([key, file]): Promise<ObjectCheck> => {
    const base = { key, kind: "raw file" as const };
    if (file.sha256 === null)
      return {
        ...base,
        status: "missing",
        detail: `already missing when ${file.digestKey} sealed ${file.manifest}`,
      };
    const ok = results.get(key);
    if (ok === true) return { ...base, status: "valid" };
    if (ok === false) {
      const problem = problems.get(key);
      if (problem?.problem === "missing")
        return { ...base, status: "missing", detail: `named by ${problem.manifest}` };
      return { ...base, status: "modified", detail: problem?.detail ?? "differs" };
    }
    const hashed = await hashStored(store, key);
    if (hashed === undefined)
      return { ...base, status: "missing", detail: `sealed with ${file.manifest} by ${file.digestKey}` };
    return hashed.sha256 === file.sha256
      ? { ...base, status: "valid" }
      : {
          ...base,
          status: "modified",
          detail: `SHA-256 ${hashed.sha256}, but ${file.digestKey} sealed ${file.sha256}`,
        };
  });
  sealed.forEach(([, file], i) => {
    const check = checks[i]!;
    out.push(check);
    if (check.status === "missing" && file.sha256 !== null && file.size !== null) {
      missing.push({ check, sha256: file.sha256, size: file.size });
    }
  });
  return missing;
}

/** Stored raw files no sealed manifest names: where a sealed raw file may have been moved to. */
export async function unnamedRaw(
  store: ArchiveStore,
  walk: ChainWalk,
  files: VerifyReport,
): Promise<Listed[]> {
  const named = new Set([...walk.sealedFiles.keys(), ...files.problems.map((p) => p.key)]);
  const out: Listed[] = [];
  for await (const info of store.list("raw/"))
    if (!named.has(info.key)) out.push({ info, sha256: undefined });
  return out;
}

/** The media files of each sealed media manifest that holds the bytes sealed: against its SHA-256s. */
export async function mediaFileChecks(
  store: ArchiveStore,
  walk: ChainWalk,
  listed: ReadonlyMap<string, Listed>,
  inScope: (key: string) => boolean,
): Promise<ObjectCheck[]> {
  const expected = new Map<string, { sha256: string; manifest: string }>();
  for (const [key, sealings] of walk.sealed) {
    if (
      !key.startsWith("media-manifests/") ||
      !inScope(key) ||
      listed.get(key)?.sha256 !== sealings[0]!.sha256
    )
      continue;
    const bytes = await readStored(store, key);
    let parsed: v.SafeParseResult<typeof mediaManifestSchema>;
    try {
      parsed = v.safeParse(mediaManifestSchema, JSON.parse(bytes?.toString("utf8") ?? "null"));
    } catch {
      continue; // sealed as it is: its own check says whether it is what was sealed
    }
    if (!parsed.success) continue;
    for (const item of parsed.output.items) {
      if (item.status === "captured") expected.set(item.key, { sha256: item.sha256, manifest: key });
    }
  }
  return mapLimit([...expected], 4, async ([key, want]): Promise<ObjectCheck> => {
    const hashed = await hashStored(store, key);
    if (hashed === undefined)
      return { key, kind: "media file", status: "missing", detail: `named by ${want.manifest}` };
    return hashed.sha256 === want.sha256
      ? { key, kind: "media file", status: "valid" }
      : {
          key,
          kind: "media file",
          status: "modified",
          detail: `SHA-256 ${hashed.sha256}, but ${want.manifest} says ${want.sha256}`,
        };
  });
}

/**
 * The head the previous verification saw must still be there, with the same bytes: the newest digest
 * can otherwise be deleted without a trace (RESEARCH "Tamper evidence").
 */
export async function previousHeadProblems(
  store: ArchiveStore,
  walk: ChainWalk,
  previous: VerificationRecord | undefined,
): Promise<string[]> {
  const seen = previous?.head;
  if (seen === null || seen === undefined) return [];
  const now = walk.head?.seq ?? 0;
  if (now < seen.seq) {
    return [
      `the verification of ${previous!.verifiedAt} saw ${seen.key} as the head; the newest digest now is ${walk.head?.key ?? "none"}: digests were deleted`,
    ];
  }
  const stored = await readDigest(store, seen.key);
  if (stored === undefined)
    return [`${seen.key}, the head at the verification of ${previous!.verifiedAt}, is gone`];
  if (stored.sha256 !== seen.sha256) {
    return [
      `${seen.key} is not the digest the verification of ${previous!.verifiedAt} saw (SHA-256 ${stored.sha256}, was ${seen.sha256})`,
    ];
  }
  return [];
}
