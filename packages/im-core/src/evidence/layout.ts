/**
 * Where the evidence lives, beside the storage layout of SPEC.md: the same keys in the bucket and
 * under DATA_DIR.
 */

export const DIGESTS_PREFIX = "digests/";
const SEQ_DIGITS = 12;
const DIGEST_KEY = /^digests\/(\d{12})\.json$/;

/**
 * What digests seal: history manifests, media manifests, table files and legal hold records. Raw
 * files are sealed through the manifest that names them; media files through their media manifest.
 */
export const SEALED_PREFIXES = ["manifests/", "media-manifests/", "tables/", "holds/"] as const;

/** A hint of the head digest's sequence number; the digests themselves are the truth. */
export const DIGEST_HEAD_HINT_KEY = "digests-state/head.json";

/** The last verification's result, in a bucket (locally it lives under DATA_DIR/.imvault/). */
export const VERIFICATION_RECORD_KEY = "digests-verified/last.json";

/** Legal hold records: one create-only object per hold placed or released, sealed like a manifest. */
export const HOLDS_PREFIX = "holds/";

/** `digests/000000000042.json`: zero-padded, so that keys sort as their sequence numbers do. */
export function digestKey(seq: number): string {
  return `${DIGESTS_PREFIX}${String(seq).padStart(SEQ_DIGITS, "0")}.json`;
}

/** The sequence number a digest key names, or undefined for any other key. */
export function digestSeqOf(key: string): number | undefined {
  const m = DIGEST_KEY.exec(key);
  if (m === null) return undefined;
  const seq = Number(m[1]);
  return seq >= 1 ? seq : undefined;
}

/**
 * The Beijing hour partition a key lies in (`…/dt=YYYY-MM-DD/hour=HH…`), as YYYYMMDDHH, or undefined
 * for a key outside any hour (media files, digests).
 */
export function hourPartitionOf(key: string): string | undefined {
  const m = /\/dt=(\d{4})-(\d{2})-(\d{2})\/hour=(\d{2})(?:[/.]|$)/.exec(key);
  return m === null ? undefined : `${m[1]}${m[2]}${m[3]}${m[4]}`;
}
