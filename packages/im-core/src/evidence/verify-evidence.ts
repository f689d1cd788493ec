import { type VerifyReport, verifyArchive } from "../archive/verify-archive.ts";
import type { VerificationRecord } from "../schemas/digest.ts";
import type { ArchiveStore } from "../store/port.ts";
import { listDigestKeys } from "./digest-file.ts";
import { mediaFileChecks, previousHeadProblems, rawFileChecks, unnamedRaw } from "./file-checks.ts";
import { SEALED_PREFIXES } from "./layout.ts";
import {
  findMoved,
  isFine,
  type Listed,
  type ObjectCheck,
  sealedObjectCheck,
  unsealedCheck,
} from "./object-checks.ts";
import { hashStored, mapLimit } from "./object-hash.ts";
import { type DigestSignatureVerifier, sha256Hex } from "./signer.ts";
import { type ChainWalk, type DigestCheck, walkChain } from "./walk-chain.ts";

export interface VerifyEvidenceOptions {
  /** The public key's verifier; required when there are digests. */
  verifier: DigestSignatureVerifier | undefined;
  /** Digests whose end time is in this window (ms, inclusive); the unsealed check needs none. */
  window?: { from?: number; to?: number };
  /** Only manifests (and sealed objects) under this prefix, e.g. `manifests/chat_type=C2C/`. */
  prefix?: string;
  /** Re-check sealed raw files against their manifest's MD5s too (see verifyArchive). */
  deep?: boolean;
  now: number;
  /** The previous verification: its head must still be there, unchanged. */
  previous?: VerificationRecord | undefined;
  onFile?: (key: string, ok: boolean) => void;
}

export interface EvidenceReport {
  /** Whether the store has any digest. */
  chained: boolean;
  digests: DigestCheck[];
  head: { key: string; seq: number; sha256: string; digestEndTime: string } | undefined;
  objects: ObjectCheck[];
  /** Today's file checks: every file of every manifest (under the prefix). */
  files: VerifyReport;
  /** Problems of the chain as a whole, e.g. a head deleted since the last verification. */
  problems: string[];
  ok: boolean;
}

/**
 * `imvault verify`: the chain of digests (walkChain), each object it seals (current bytes against the
 * sealed SHA-256, or missing, or moved), the raw files of every manifest (against their seal, or their
 * manifest's figures when no digest seals them yet) and the media files of sealed media manifests,
 * and what was committed after the head. Streams every object once.
 */
export async function verifyEvidence(
  store: ArchiveStore,
  options: VerifyEvidenceOptions,
): Promise<EvidenceReport> {
  const chained = (await listDigestKeys(store)).length > 0;
  const walk: ChainWalk =
    options.verifier === undefined || !chained
      ? { digests: [], head: undefined, sealed: new Map(), sealedFiles: new Map(), endTimes: new Map() }
      : await walkChain(store, options.verifier, options.window);
  const inScope = (key: string) => options.prefix === undefined || key.startsWith(options.prefix);
  const listed = new Map<string, Listed>();
  const fileResults = new Map<string, boolean>();
  const files = await verifyArchive(store, {
    ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
    ...(options.deep === undefined ? {} : { deep: options.deep }),
    sealedSha256: (key) => walk.sealedFiles.get(key)?.sha256 ?? undefined,
    onManifest: (info, bytes) => listed.set(info.key, { info, sha256: sha256Hex(bytes) }),
    onFile: (key, ok) => {
      fileResults.set(key, ok);
      options.onFile?.(key, ok);
    },
  });
  if (options.prefix === undefined) {
    for (const prefix of SEALED_PREFIXES.filter((p) => p !== "manifests/")) {
      for await (const info of store.list(prefix)) listed.set(info.key, { info, sha256: undefined });
    }
    await mapLimit([...listed.values()], 4, async (l) => {
      l.sha256 ??= (await hashStored(store, l.info.key))?.sha256;
    });
  }

  const endOf = (digestKey: string) => walk.endTimes.get(digestKey);
  const objects: ObjectCheck[] = [];
  const missing: { check: ObjectCheck; sha256: string; size: number }[] = [];
  for (const [key, sealings] of walk.sealed) {
    if (!inScope(key)) continue;
    const check = await sealedObjectCheck(store, key, sealings, listed.get(key), options.now, endOf);
    objects.push(check);
    if (check.status === "missing")
      missing.push({ check, sha256: sealings[0]!.sha256, size: sealings[0]!.size });
  }
  const rawMissing = await rawFileChecks(store, walk, files, fileResults, inScope, objects);
  // One at a time: an archive's media files number in the hundreds of thousands, past what a
  // spread's arguments can hold (RangeError: Maximum call stack size exceeded).
  for (const check of await mediaFileChecks(store, walk, listed, inScope)) objects.push(check);

  const everything = options.window === undefined && options.prefix === undefined;
  const unsealed = [...listed.values()].filter((l) => !walk.sealed.has(l.info.key));
  const moved = await findMoved(store, missing, unsealed);
  if (rawMissing.length > 0) await findMoved(store, rawMissing, await unnamedRaw(store, walk, files));
  if (everything) {
    const head =
      walk.head?.digest === undefined
        ? undefined
        : { key: walk.head.key, end: Date.parse(walk.head.digest.digestEndTime) };
    for (const l of unsealed) if (!moved.has(l.info.key)) objects.push(unsealedCheck(l, options.now, head));
  }
  const problems = await previousHeadProblems(store, walk, options.previous);
  const ok =
    walk.digests.every((d) => d.valid) &&
    problems.length === 0 &&
    objects.every(isFine) &&
    files.problems.length === 0;
  return { chained, digests: walk.digests, head: headOf(walk), objects, files, problems, ok };
}

function headOf(walk: ChainWalk): EvidenceReport["head"] {
  const head = walk.head;
  if (head?.digest === undefined) return undefined;
  return { key: head.key, seq: head.seq, sha256: head.sha256, digestEndTime: head.digest.digestEndTime };
}
