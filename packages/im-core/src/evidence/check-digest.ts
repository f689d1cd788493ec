import type { StoredDigest } from "./digest-file.ts";
import { digestKey } from "./layout.ts";
import { type DigestSignatureVerifier, digestBodyBytes, sha256Hex, stringToSign } from "./signer.ts";

/**
 * The checks of one digest on its own, as CloudTrail's validate-logs makes them: it is a digest, it
 * is where it says it is, it was signed with this key, and the signature holds. Each problem is one
 * line; none means valid.
 */
export function checkDigest(stored: StoredDigest, verifier: DigestSignatureVerifier): string[] {
  const { digest, raw } = stored;
  if (digest === undefined || raw === undefined) return [stored.problem ?? "not a digest"];
  const problems: string[] = [];
  if (digest.digestKey !== stored.key)
    problems.push(`it says it is ${digest.digestKey}, but it is stored at ${stored.key}`);
  if (digest.seq !== stored.seq)
    problems.push(`it says it is number ${digest.seq}, but its key is number ${stored.seq}`);
  if (digest.digestPublicKeyFingerprint !== verifier.fingerprint) {
    problems.push(
      `signed with another key (fingerprint ${digest.digestPublicKeyFingerprint}, not ${verifier.fingerprint})`,
    );
  } else if (digest.digestSignatureAlgorithm !== verifier.algorithm) {
    problems.push(`it names ${digest.digestSignatureAlgorithm}; the key signs ${verifier.algorithm}`);
  }
  const text = stringToSign({
    digestEndTime: digest.digestEndTime,
    digestKey: digest.digestKey,
    bodySha256: sha256Hex(digestBodyBytes(raw)),
    previousDigestSignature: digest.previousDigestSignature,
  });
  if (!verifier.verify(text, digest.signature)) problems.push("the signature does not match its contents");
  if (Date.parse(digest.digestEndTime) < Date.parse(digest.digestStartTime))
    problems.push("it ends before it starts");
  return problems;
}

/**
 * How `newer` links to the digest before it. `older` is that digest as stored (undefined: missing).
 * Answers the problems of each side: a link that names the right key but another hash or signature
 * means the older digest is not what the newer one sealed (CloudTrail reports the older one INVALID).
 */
export function checkLink(
  newer: StoredDigest,
  older: StoredDigest | undefined,
): { newer: string[]; older: string[] } {
  const link = newer.digest;
  if (link === undefined) return { newer: [], older: [] };
  if (newer.seq === 1) {
    const first =
      link.previousDigestKey === null &&
      link.previousDigestHashValue === null &&
      link.previousDigestSignature === null;
    return { newer: first ? [] : ["it is the first digest but names a previous one"], older: [] };
  }
  const expectedKey = digestKey(newer.seq - 1);
  if (link.previousDigestKey !== expectedKey) {
    return {
      newer: [`it names ${link.previousDigestKey ?? "no previous digest"} as previous, not ${expectedKey}`],
      older: [],
    };
  }
  if (older === undefined)
    return { newer: [], older: [`missing (${newer.key} names it as its previous digest)`] };
  const problems: string[] = [];
  if (link.previousDigestHashValue !== older.sha256) {
    problems.push(
      `its SHA-256 is ${older.sha256}, but ${newer.key} recorded ${link.previousDigestHashValue}`,
    );
  }
  const signature = older.raw?.signature;
  if (link.previousDigestSignature !== signature)
    problems.push(`its signature is not the one ${newer.key} recorded`);
  return { newer: [], older: problems };
}
