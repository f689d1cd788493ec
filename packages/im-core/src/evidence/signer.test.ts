import { createHash, generateKeyPairSync, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.ts";
import { digestBodyBytes, publicKeyFingerprint, signatureVerifier, stringToSign } from "./signer.ts";

const pem = (key: { export(o: { type: "spki"; format: "pem" }): string | Buffer }) =>
  key.export({ type: "spki", format: "pem" }).toString();

describe("digest signatures", () => {
  const text = stringToSign({
    digestEndTime: "2024-05-01T02:00:00.000Z",
    digestKey: "digests/000000000002.json",
    bodySha256: "ab".repeat(32),
    previousDigestSignature: "cd",
  });

  it("signs the end time, the key, the body's hash and the previous signature, newline-joined", () => {
    expect(text).toBe(`2024-05-01T02:00:00.000Z\ndigests/000000000002.json\n${"ab".repeat(32)}\ncd`);
    expect(
      stringToSign({ digestEndTime: "t", digestKey: "k", bodySha256: "h", previousDigestSignature: null }),
    ).toBe("t\nk\nh\n");
  });

  it("takes the body as the document without its signature, compact, in the document's order", () => {
    expect(digestBodyBytes({ b: 1, a: [2], signature: "ff" }).toString()).toBe('{"b":1,"a":[2]}');
  });

  it("accepts an Ed25519 signature of the string's SHA-256 and refuses a forged or moved one", () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const verifier = signatureVerifier(pem(publicKey));
    const good = sign(null, createHash("sha256").update(text).digest(), privateKey).toString("hex");
    const other = generateKeyPairSync("ed25519").privateKey;
    const forged = sign(null, createHash("sha256").update(text).digest(), other).toString("hex");

    expect(verifier.algorithm).toBe("Ed25519");
    expect(verifier.verify(text, good)).toBe(true);
    expect(verifier.verify(text, forged)).toBe(false);
    expect(verifier.verify(text.replace("000000000002", "000000000003"), good)).toBe(false);
    expect(verifier.verify(text, "00")).toBe(false);
  });

  it("accepts ECDSA P-256 over SHA-256 of the string, as KMS signs its DIGEST", () => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const verifier = signatureVerifier(pem(publicKey));
    const signature = sign("sha256", Buffer.from(text), privateKey).toString("hex");

    expect(verifier.algorithm).toBe("ECDSA_SHA_256");
    expect(verifier.verify(text, signature)).toBe(true);
    expect(verifier.verify(`${text}x`, signature)).toBe(false);
  });

  it("names a key by the SHA-256 of its DER public key, and refuses keys that do not sign digests", () => {
    const { publicKey } = generateKeyPairSync("ed25519");
    const der = publicKey.export({ type: "spki", format: "der" });

    expect(publicKeyFingerprint(pem(publicKey))).toBe(createHash("sha256").update(der).digest("hex"));
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey;
    expect(() => signatureVerifier(pem(rsa))).toThrow(ValidationError);
    expect(() => signatureVerifier("not a key")).toThrow(ValidationError);
  });
});
