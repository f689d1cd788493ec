import * as v from "valibot";
import { type Digest, DigestSchema } from "../schemas/digest.ts";
import type { ArchiveStore } from "../store/port.ts";
import { DIGEST_HEAD_HINT_KEY, DIGESTS_PREFIX, digestKey, digestSeqOf } from "./layout.ts";
import { readStored } from "./object-hash.ts";
import { sha256Hex } from "./signer.ts";

/** A digest as stored: its bytes' hash, the raw JSON (for the body hash), the document if valid. */
export interface StoredDigest {
  key: string;
  seq: number;
  sha256: string;
  bytes: Buffer;
  /** The parsed JSON object, or undefined when the bytes are not a JSON object. */
  raw: Record<string, unknown> | undefined;
  /** The document, or undefined with `problem` when it is not a digest. */
  digest: Digest | undefined;
  problem?: string;
}

/** Reads and parses the digest at `key`; undefined when there is none. */
export async function readDigest(store: ArchiveStore, key: string): Promise<StoredDigest | undefined> {
  const seq = digestSeqOf(key);
  if (seq === undefined) return undefined;
  const bytes = await readStored(store, key);
  if (bytes === undefined) return undefined;
  const base = { key, seq, sha256: sha256Hex(bytes), bytes };
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString("utf8"));
  } catch {
    return { ...base, raw: undefined, digest: undefined, problem: "not JSON" };
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    return { ...base, raw: undefined, digest: undefined, problem: "not a JSON object" };
  }
  const parsed = v.safeParse(DigestSchema, raw);
  if (!parsed.success) {
    const issues = parsed.issues.slice(0, 3).map((i) => `${v.getDotPath(i) ?? "(digest)"}: ${i.message}`);
    return {
      ...base,
      raw: raw as Record<string, unknown>,
      digest: undefined,
      problem: `not a digest (${issues.join("; ")})`,
    };
  }
  return { ...base, raw: raw as Record<string, unknown>, digest: parsed.output };
}

/** Every digest key in the store with its sequence number, oldest first. */
export async function listDigestKeys(store: ArchiveStore): Promise<{ key: string; seq: number }[]> {
  const keys: { key: string; seq: number }[] = [];
  for await (const obj of store.list(DIGESTS_PREFIX)) {
    const seq = digestSeqOf(obj.key);
    if (seq !== undefined) keys.push({ key: obj.key, seq });
  }
  return keys.sort((a, b) => a.seq - b.seq);
}

/**
 * The head digest's sequence number (0: no digest yet). The hint object names a recent head; the
 * digests after it are found by asking for the next keys until one is missing. Without a usable hint,
 * the digests are listed.
 */
export async function findHeadSeq(store: ArchiveStore): Promise<number> {
  const hint = await readHint(store);
  if (hint !== undefined && (await store.head(digestKey(hint))) !== undefined) {
    let seq = hint;
    while ((await store.head(digestKey(seq + 1))) !== undefined) seq++;
    return seq;
  }
  const keys = await listDigestKeys(store);
  return keys.at(-1)?.seq ?? 0;
}

async function readHint(store: ArchiveStore): Promise<number | undefined> {
  try {
    const bytes = await readStored(store, DIGEST_HEAD_HINT_KEY);
    if (bytes === undefined) return undefined;
    const seq = (JSON.parse(bytes.toString("utf8")) as { seq?: unknown }).seq;
    return typeof seq === "number" && Number.isSafeInteger(seq) && seq >= 1 ? seq : undefined;
  } catch {
    return undefined;
  }
}

/** Records the head for the next sealer; best effort (the digests are the truth). */
export async function writeHeadHint(store: ArchiveStore, seq: number): Promise<void> {
  await store.put(DIGEST_HEAD_HINT_KEY, `${JSON.stringify({ seq, key: digestKey(seq) })}\n`, {
    contentType: "application/json",
  });
}
