import { parseManifest } from "../archive/manifest.ts";
import { AlreadyExistsError, CorruptManifestError, ImvaultError } from "../errors.ts";
import type { DigestBody, SealedFile, SealedObject } from "../schemas/digest.ts";
import { EVIDENCE } from "../schemas/limits.ts";
import type { ArchiveStore, ObjectInfo } from "../store/port.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import { METRIC, type Metrics, noMetrics } from "../util/metrics.ts";
import { checkDigest } from "./check-digest.ts";
import { findHeadSeq, readDigest, type StoredDigest, writeHeadHint } from "./digest-file.ts";
import { digestKey, SEALED_PREFIXES } from "./layout.ts";
import { hashStored, mapLimit, readStored } from "./object-hash.ts";
import {
  type DigestSigner,
  digestBodyBytes,
  publicKeyFingerprint,
  sha256Hex,
  signatureVerifier,
  stringToSign,
} from "./signer.ts";

/**
 * Sealing: one digest over what was committed since the previous one. How a sealer knows what that
 * is, without a state that grows with the archive: it lists the sealed prefixes and takes what was
 * modified since the previous digest's listing began (less EVIDENCE.sealOverlapMs, for S3's dating of
 * multipart uploads by their start and for clock drift), less what the digests of that overlap sealed
 * already (same key, size and modification time). An object committed just before a sealer was killed
 * is modified after the head's listing began, so the next digest seals it. The cost per digest is one
 * listing of the sealed prefixes (S3: a request per 1000 keys) and a read of each new object; nothing
 * is rewritten as the archive grows but the head hint.
 *
 * One writer at a time: the digest is put create-only at the next sequence number; a sealer that
 * finds the key taken reads the new head and seals again on top of it, so concurrent sealers make one
 * chain, never a fork.
 */

export interface SealDeps {
  store: ArchiveStore;
  signer: DigestSigner;
  clock: Clock;
  logger?: Logger | undefined;
  metrics?: Metrics | undefined;
}

export interface SealOptions {
  /**
   * When nothing new was committed: seal an empty digest anyway if the head is older than this (the
   * scheduler, for continuity); without it, seal nothing.
   */
  emptyAfterMs?: number;
  /** Objects one digest seals at most; the rest go into the next one (EVIDENCE.maxObjectsPerDigest). */
  maxObjects?: number;
}

export interface SealResult {
  outcome: "sealed" | "nothing-new";
  key?: string;
  seq?: number;
  objects: number;
  files: number;
  /** Times this sealer found its sequence number taken by another and sealed again. */
  retries: number;
  /** Why the head this digest builds on does not check out (also logged and counted). */
  headProblem?: string;
}

/** Seals one digest (or, with nothing new and no `emptyAfterMs` due, none). */
export async function sealDigest(deps: SealDeps, options: SealOptions = {}): Promise<SealResult> {
  const metrics = deps.metrics ?? noMetrics;
  const publicPem = await deps.signer.publicKeyPem();
  const fingerprint = publicKeyFingerprint(publicPem);
  const verifier = signatureVerifier(publicPem);
  for (let attempt = 0; attempt < EVIDENCE.maxSealAttempts; attempt++) {
    const seq = await findHeadSeq(deps.store);
    const head = seq === 0 ? undefined : await readDigest(deps.store, digestKey(seq));
    const headProblem = head === undefined ? undefined : headProblemOf(head, verifier);
    if (headProblem !== undefined) {
      metrics.count(METRIC.digestChainBroken);
      deps.logger?.error("the head digest does not check out: sealing on top of it; run imvault verify", {
        key: head?.key,
        problem: headProblem,
      });
    }
    const plan = await planDigest(deps, head, options);
    if (plan === undefined) {
      return { outcome: "nothing-new", objects: 0, files: 0, retries: attempt, ...problem(headProblem) };
    }
    const key = digestKey(seq + 1);
    const objects = await mapLimit(plan.listed, EVIDENCE.concurrency, (obj) => sealObject(deps.store, obj));
    const body: DigestBody = {
      version: 1,
      seq: seq + 1,
      digestKey: key,
      digestStartTime: head?.digest?.digestEndTime ?? new Date(0).toISOString(),
      digestEndTime: new Date(plan.endTime).toISOString(),
      listingEndTime: new Date(plan.listingEndTime).toISOString(),
      digestPublicKeyFingerprint: fingerprint,
      digestSignatureAlgorithm: deps.signer.algorithm,
      previousDigestKey: head?.key ?? null,
      previousDigestHashAlgorithm: "SHA-256",
      previousDigestHashValue: head?.sha256 ?? null,
      previousDigestSignature: signatureOf(head),
      objects,
    };
    const toSign = stringToSign({
      digestEndTime: body.digestEndTime,
      digestKey: key,
      bodySha256: sha256Hex(digestBodyBytes(body)),
      previousDigestSignature: body.previousDigestSignature,
    });
    const signature = (await deps.signer.sign(Buffer.from(sha256Hex(toSign), "hex"))).toString("hex");
    try {
      await deps.store.put(key, `${JSON.stringify({ ...body, signature }, null, 2)}\n`, {
        ifNoneMatch: true,
        contentType: "application/json",
      });
    } catch (error) {
      if (error instanceof AlreadyExistsError) continue; // another sealer took this number: seal on its digest
      throw error;
    }
    await writeHeadHint(deps.store, seq + 1).catch((error: unknown) =>
      deps.logger?.warn("could not record the head digest's hint", { error: String(error) }),
    );
    const files = objects.reduce((n, o) => n + (o.files?.length ?? 0), 0);
    metrics.count(METRIC.digestsSealed);
    deps.logger?.info("digest sealed", { key, objects: objects.length, files, retries: attempt });
    return {
      outcome: "sealed",
      key,
      seq: seq + 1,
      objects: objects.length,
      files,
      retries: attempt,
      ...problem(headProblem),
    };
  }
  throw new ImvaultError(
    `could not seal a digest: ${EVIDENCE.maxSealAttempts} times another sealer took the next number first`,
    { retryable: true },
  );
}

const problem = (headProblem: string | undefined) => (headProblem === undefined ? {} : { headProblem });

function signatureOf(head: StoredDigest | undefined): string | null {
  if (head === undefined) return null;
  const signature = head.raw?.signature;
  return typeof signature === "string" && /^([0-9a-f]{2})+$/.test(signature) ? signature : "";
}

function headProblemOf(
  head: StoredDigest,
  verifier: ReturnType<typeof signatureVerifier>,
): string | undefined {
  const problems = checkDigest(head, verifier);
  return problems.length === 0 ? undefined : problems.join("; ");
}

interface Plan {
  listed: ObjectInfo[];
  /** The digest's end time: its listing's start, or the first object left for the next digest. */
  endTime: number;
  listingEndTime: number;
}

/** What the next digest seals, or undefined when there is nothing to seal and no empty digest is due. */
async function planDigest(
  deps: SealDeps,
  head: StoredDigest | undefined,
  options: SealOptions,
): Promise<Plan | undefined> {
  const listingStart = deps.clock.now();
  const headEnd = head?.digest === undefined ? undefined : Date.parse(head.digest.digestEndTime);
  // Without a readable head, everything is listed again (a corrupt head is reported, not trusted).
  const watermark = headEnd === undefined ? Number.NEGATIVE_INFINITY : headEnd - EVIDENCE.sealOverlapMs;
  const sealed = await recentlySealed(deps.store, head, watermark);
  const fresh: ObjectInfo[] = [];
  for (const prefix of SEALED_PREFIXES) {
    for await (const obj of deps.store.list(prefix)) {
      if (obj.lastModified.getTime() < watermark) continue;
      const known = sealed.get(obj.key);
      if (known !== undefined && known.size === obj.size && known.lastModified === obj.lastModified.getTime())
        continue;
      fresh.push(obj);
    }
  }
  const listingEndTime = deps.clock.now();
  const max = options.maxObjects ?? EVIDENCE.maxObjectsPerDigest;
  fresh.sort((a, b) => a.lastModified.getTime() - b.lastModified.getTime() || (a.key < b.key ? -1 : 1));
  const listed = fresh.slice(0, max);
  // Objects left for the next digest: this digest ends where they begin, so the next one lists them.
  const endTime =
    fresh.length > max ? Math.min(listingStart, fresh[max]!.lastModified.getTime()) : listingStart;
  if (listed.length === 0) {
    const due =
      options.emptyAfterMs !== undefined &&
      (headEnd === undefined || listingStart - headEnd >= options.emptyAfterMs);
    if (!due) return undefined;
  }
  return { listed, endTime, listingEndTime };
}

/**
 * What the digests of the overlap sealed: key → size and modification time, newest sealing first.
 * Walks back from the head while the digests listed after `watermark`.
 */
async function recentlySealed(
  store: ArchiveStore,
  head: StoredDigest | undefined,
  watermark: number,
): Promise<Map<string, { size: number; lastModified: number }>> {
  const sealed = new Map<string, { size: number; lastModified: number }>();
  let current = head;
  while (current?.digest !== undefined && Date.parse(current.digest.listingEndTime) >= watermark) {
    for (const obj of current.digest.objects) {
      if (!sealed.has(obj.key))
        sealed.set(obj.key, { size: obj.size, lastModified: Date.parse(obj.lastModified) });
    }
    if (current.seq <= 1) break;
    current = await readDigest(store, digestKey(current.seq - 1));
  }
  return sealed;
}

/** One object as the digest seals it: its hash; a history manifest's raw files' hashes too. */
async function sealObject(store: ArchiveStore, obj: ObjectInfo): Promise<SealedObject> {
  const base = { key: obj.key, lastModified: obj.lastModified.toISOString() };
  if (!obj.key.startsWith("manifests/")) {
    const hashed = await hashStored(store, obj.key);
    // Gone between the listing and now: sealed as listed, so that verify names it missing.
    return {
      ...base,
      sha256: hashed?.sha256 ?? sha256Hex(""),
      size: hashed?.size ?? 0,
      ...(hashed ? {} : { problem: "gone when sealed" }),
    };
  }
  const bytes = await readStored(store, obj.key);
  if (bytes === undefined) return { ...base, sha256: sha256Hex(""), size: 0, problem: "gone when sealed" };
  const sealed: SealedObject = { ...base, sha256: sha256Hex(bytes), size: bytes.length };
  try {
    const manifest = parseManifest(bytes.toString("utf8"), obj.key);
    sealed.files = await mapLimit(manifest.files, 2, async (file): Promise<SealedFile> => {
      if (file.gzipSha256 !== undefined)
        return { key: file.key, sha256: file.gzipSha256, size: file.gzipSize };
      const hashed = await hashStored(store, file.key);
      return { key: file.key, sha256: hashed?.sha256 ?? null, size: hashed?.size ?? null };
    });
  } catch (error) {
    if (!(error instanceof CorruptManifestError)) throw error;
    sealed.problem = error.message;
  }
  return sealed;
}
