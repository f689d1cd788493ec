import type { SealedFile, SealedObject } from "../schemas/digest.ts";
import type { ArchiveStore } from "../store/port.ts";
import { checkDigest, checkLink } from "./check-digest.ts";
import { listDigestKeys, readDigest, type StoredDigest } from "./digest-file.ts";
import { digestKey } from "./layout.ts";
import type { DigestSignatureVerifier } from "./signer.ts";

/** One digest as verify reports it (CloudTrail's "valid" / "INVALID"). */
export interface DigestCheck {
  key: string;
  seq: number;
  valid: boolean;
  problems: string[];
}

/** One sealing of an object: which digest, and what it recorded. */
export interface Sealing extends SealedObject {
  digestKey: string;
}

export interface ChainWalk {
  /** Newest first, only the digests in the window. */
  digests: DigestCheck[];
  /** The newest digest there is (whatever the window). */
  head: StoredDigest | undefined;
  /** Sealed objects of the window's digests: key → sealings, newest first. */
  sealed: Map<string, Sealing[]>;
  /** Raw files by key: what the newest sealing of the manifest naming them recorded. */
  sealedFiles: Map<string, SealedFile & { manifest: string; digestKey: string }>;
  /** Each read digest's end time (ms), by key. */
  endTimes: Map<string, number>;
}

/**
 * Walks the chain back from its head, as CloudTrail's validate-logs does: each digest must be a digest,
 * stored where it says, signed with `verifier`'s key, and named (key, SHA-256, signature) by the one
 * after it; a number with no digest is a deleted digest. `window` keeps the digests whose end time is
 * in it (ms, inclusive); the walk stops below it.
 */
export async function walkChain(
  store: ArchiveStore,
  verifier: DigestSignatureVerifier,
  window: { from?: number; to?: number } = {},
): Promise<ChainWalk> {
  const keys = await listDigestKeys(store);
  const headSeq = keys.at(-1)?.seq ?? 0;
  const walk: ChainWalk = {
    digests: [],
    head: undefined,
    sealed: new Map(),
    sealedFiles: new Map(),
    endTimes: new Map(),
  };
  const problemsOf = new Map<number, string[]>();
  const inWindow = new Set<number>();
  const add = (seq: number, problems: string[]) =>
    problemsOf.set(seq, [...(problemsOf.get(seq) ?? []), ...problems]);
  let newer: StoredDigest | undefined;
  for (let seq = headSeq; seq >= 1; seq--) {
    const current = await readDigest(store, digestKey(seq));
    if (seq === headSeq) walk.head = current;
    if (newer !== undefined) {
      const link = checkLink(newer, current);
      add(newer.seq, link.newer);
      add(seq, link.older);
    } else if (current === undefined) {
      add(seq, ["missing"]);
    }
    if (current !== undefined) add(seq, checkDigest(current, verifier));
    const end = current?.digest === undefined ? undefined : Date.parse(current.digest.digestEndTime);
    if (current !== undefined && end !== undefined) walk.endTimes.set(current.key, end);
    const below = window.from !== undefined && end !== undefined && end < window.from;
    const above = window.to !== undefined && end !== undefined && end > window.to;
    if (!above && !below) {
      inWindow.add(seq);
      if (current?.digest !== undefined) collect(walk, current.key, current.digest.objects);
    }
    // A digest that cannot be read still has its number: it stays `newer` for the link check.
    newer = current ?? placeholder(seq);
    if (below) break;
  }
  for (let seq = headSeq; seq >= 1; seq--) {
    if (!inWindow.has(seq)) continue;
    const problems = problemsOf.get(seq) ?? [];
    walk.digests.push({ key: digestKey(seq), seq, valid: problems.length === 0, problems });
  }
  return walk;
}

/** A missing digest: no link of its own to check, but its number continues the walk. */
function placeholder(seq: number): StoredDigest {
  return { key: digestKey(seq), seq, sha256: "", bytes: Buffer.alloc(0), raw: undefined, digest: undefined };
}

function collect(walk: ChainWalk, key: string, objects: readonly SealedObject[]): void {
  for (const obj of objects) {
    const sealings = walk.sealed.get(obj.key) ?? [];
    sealings.push({ ...obj, digestKey: key });
    walk.sealed.set(obj.key, sealings);
    if (sealings.length > 1) continue; // an older sealing: the newest one names the files
    for (const file of obj.files ?? []) {
      if (!walk.sealedFiles.has(file.key))
        walk.sealedFiles.set(file.key, { ...file, manifest: obj.key, digestKey: key });
    }
  }
}
