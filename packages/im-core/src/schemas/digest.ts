import * as v from "valibot";
import { CountSchema, Sha256Schema, TimestampSchema } from "./common.ts";

/**
 * The digest file (SPEC "Evidence"): one signed document under `digests/` that seals every history
 * manifest, media manifest, table file and hold record committed since the previous digest, and names
 * the previous digest's key, SHA-256 and signature, so that the digests form one chain. Modelled on
 * AWS CloudTrail's digest files; docs/evidence.md says how it is signed and checked.
 */

/** Ed25519 locally (a key under DATA_DIR/.imvault), ECDSA P-256 over SHA-256 in AWS (a KMS key). */
export const DIGEST_SIGNATURE_ALGORITHMS = ["Ed25519", "ECDSA_SHA_256"] as const;
export type DigestSignatureAlgorithm = (typeof DIGEST_SIGNATURE_ALGORITHMS)[number];

/** A signature in lower-case hex (Ed25519's 64 bytes, or ECDSA's DER encoding). */
export const SignatureHexSchema = v.pipe(v.string(), v.regex(/^([0-9a-f]{2})+$/, "not hex"));

/** One raw file a sealed history manifest names: its SHA-256 and size, or null when it was not there. */
export const SealedFileSchema = v.object({
  key: v.pipe(v.string(), v.minLength(1)),
  sha256: v.nullable(Sha256Schema),
  size: v.nullable(CountSchema),
});
export type SealedFile = v.InferOutput<typeof SealedFileSchema>;

/** One object the digest seals, as it was when the digest was made. */
export const SealedObjectSchema = v.object({
  key: v.pipe(v.string(), v.minLength(1)),
  sha256: Sha256Schema,
  size: CountSchema,
  /** The store's modification time of the object when it was listed (how the next digest knows it). */
  lastModified: TimestampSchema,
  /** History manifests: each raw file the manifest names. */
  files: v.optional(v.array(SealedFileSchema)),
  /** Set when the object was sealed as found although it is not what it should be (a corrupt manifest). */
  problem: v.optional(v.string()),
});
export type SealedObject = v.InferOutput<typeof SealedObjectSchema>;

export const DigestSchema = v.object({
  version: v.literal(1),
  /** 1 for the first digest, then one more each time: the chain has no gaps. */
  seq: v.pipe(v.number(), v.integer(), v.minValue(1)),
  /** Where this digest is stored: a digest found under any other key is not valid. */
  digestKey: v.pipe(v.string(), v.startsWith("digests/")),
  /** The previous digest's end time (the epoch for the first digest). */
  digestStartTime: TimestampSchema,
  /** When this digest's listing began: what was committed before then is sealed here or earlier. */
  digestEndTime: TimestampSchema,
  /** When the listing ended. */
  listingEndTime: TimestampSchema,
  /** SHA-256 (hex) of the signer's public key, DER SubjectPublicKeyInfo. */
  digestPublicKeyFingerprint: Sha256Schema,
  digestSignatureAlgorithm: v.picklist(DIGEST_SIGNATURE_ALGORITHMS),
  previousDigestKey: v.nullable(v.string()),
  previousDigestHashAlgorithm: v.literal("SHA-256"),
  previousDigestHashValue: v.nullable(Sha256Schema),
  previousDigestSignature: v.nullable(SignatureHexSchema),
  objects: v.array(SealedObjectSchema),
  /** Over the string to sign (docs/evidence.md); always the document's last member. */
  signature: SignatureHexSchema,
});
export type Digest = v.InferOutput<typeof DigestSchema>;
export type DigestBody = Omit<Digest, "signature">;

/** What `imvault verify` found the last time it ran: the head it saw and whether all was valid. */
export const VerificationRecordSchema = v.object({
  version: v.literal(1),
  verifiedAt: TimestampSchema,
  ok: v.boolean(),
  head: v.nullable(
    v.object({
      key: v.string(),
      seq: v.pipe(v.number(), v.integer(), v.minValue(1)),
      sha256: Sha256Schema,
      digestEndTime: TimestampSchema,
    }),
  ),
  digests: v.object({ valid: CountSchema, total: CountSchema }),
  objects: v.object({ valid: CountSchema, total: CountSchema }),
  summary: v.string(),
});
export type VerificationRecord = v.InferOutput<typeof VerificationRecordSchema>;

/** The chain's head and the last verification, as `GET /v1/status` and `imvault status` show them. */
export const EvidenceStatusSchema = v.object({
  head: v.nullable(
    v.object({
      key: v.string(),
      seq: v.pipe(v.number(), v.integer(), v.minValue(1)),
      sealedAt: v.pipe(TimestampSchema, v.description("The head digest's end time")),
    }),
  ),
  lastVerified: v.nullable(
    v.object({
      at: TimestampSchema,
      ok: v.boolean(),
      headKey: v.nullable(v.string()),
      summary: v.string(),
    }),
  ),
});
export type EvidenceStatus = v.InferOutput<typeof EvidenceStatusSchema>;
