import { createHash, createPublicKey, type KeyObject, verify } from "node:crypto";
import { ValidationError } from "../errors.ts";
import type { DigestBody, DigestSignatureAlgorithm } from "../schemas/digest.ts";

/**
 * Signing digests. What is signed, as CloudTrail signs its digest files, is the SHA-256 of the
 * string to sign: the digest's end time, its key, the hex SHA-256 of its body and the previous
 * digest's signature (empty for the first digest), joined by newlines (stringToSign). The body is the
 * digest document without its `signature` member, as compact JSON in the document's own member order.
 */

/** The signing side: a local key (local-signer.ts) or an asymmetric KMS key (@imvault/runtime). */
export interface DigestSigner {
  readonly algorithm: DigestSignatureAlgorithm;
  /** The public key, PEM (SubjectPublicKeyInfo). */
  publicKeyPem(): Promise<string>;
  /** Signs `digestHash`, the 32-byte SHA-256 of the string to sign; answers the signature's bytes. */
  sign(digestHash: Buffer): Promise<Buffer>;
}

/** The checking side: needs only the public key. */
export interface DigestSignatureVerifier {
  readonly algorithm: DigestSignatureAlgorithm;
  /** SHA-256 (hex) of the public key's DER SubjectPublicKeyInfo, as digests name it. */
  readonly fingerprint: string;
  /** Whether `signatureHex` signs the SHA-256 of `stringToSign` with this key. */
  verify(stringToSign: string, signatureHex: string): boolean;
}

/** The newline-joined string whose SHA-256 is signed (see above). */
export function stringToSign(fields: {
  digestEndTime: string;
  digestKey: string;
  bodySha256: string;
  previousDigestSignature: string | null;
}): string {
  return [
    fields.digestEndTime,
    fields.digestKey,
    fields.bodySha256,
    fields.previousDigestSignature ?? "",
  ].join("\n");
}

/** The bytes a digest's body hash is taken over: the document without `signature`, compact JSON. */
export function digestBodyBytes(document: Record<string, unknown> | DigestBody): Buffer {
  const { signature: _, ...body } = document as Record<string, unknown>;
  return Buffer.from(JSON.stringify(body), "utf8");
}

export function sha256Hex(bytes: Buffer | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** SHA-256 (hex) of a public key's DER SubjectPublicKeyInfo. */
export function publicKeyFingerprint(publicKey: KeyObject | string): string {
  const key = typeof publicKey === "string" ? createPublicKey(publicKey) : publicKey;
  return sha256Hex(key.export({ type: "spki", format: "der" }));
}

/** The algorithm a public key signs digests with: Ed25519, or ECDSA on P-256 (KMS ECC_NIST_P256). */
function algorithmOf(key: KeyObject): DigestSignatureAlgorithm {
  if (key.asymmetricKeyType === "ed25519") return "Ed25519";
  if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") {
    return "ECDSA_SHA_256";
  }
  throw new ValidationError(
    `the public key is ${key.asymmetricKeyType ?? "unknown"}: digests are signed with Ed25519 or ECDSA P-256`,
  );
}

/** A verifier from a PEM public key (what `imvault key export` writes). */
export function signatureVerifier(publicKeyPem: string): DigestSignatureVerifier {
  let key: KeyObject;
  try {
    key = createPublicKey(publicKeyPem);
  } catch (error) {
    throw new ValidationError("the public key is not a PEM public key", {
      problem: error instanceof Error ? error.message : String(error),
    });
  }
  const algorithm = algorithmOf(key);
  return {
    algorithm,
    fingerprint: publicKeyFingerprint(key),
    verify(text, signatureHex) {
      const signature = Buffer.from(signatureHex, "hex");
      try {
        if (algorithm === "Ed25519") {
          return verify(null, createHash("sha256").update(text, "utf8").digest(), key, signature);
        }
        // ECDSA over SHA-256 of the string: what KMS signs when given that SHA-256 as a DIGEST (DER).
        return verify("sha256", Buffer.from(text, "utf8"), key, signature);
      } catch {
        return false;
      }
    },
  };
}
