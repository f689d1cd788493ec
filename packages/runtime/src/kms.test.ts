import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  checkDigest,
  createLocalStore,
  digestKey,
  ImvaultError,
  publicKeyFingerprint,
  readDigest,
  sealDigest,
  signatureVerifier,
  systemClock,
} from "@imvault/im-core";
import { writeArchivedHour } from "@imvault/im-core/testing";
import { describe, expect, it } from "vitest";
import { kmsStub } from "../testing/kms-stub.ts";
import { createKmsDigestSigner } from "./kms.ts";

describe("the KMS digest signer", () => {
  it("asks KMS to sign the digest hash as a DIGEST with ECDSA_SHA_256 on the configured key", async () => {
    const kms = kmsStub();
    const signer = createKmsDigestSigner({ client: kms, keyId: "alias/imvault-digests" });
    const hash = Buffer.alloc(32, 7);

    const signature = await signer.sign(hash);

    expect(kms.sent).toEqual([
      {
        command: "SignCommand",
        input: {
          KeyId: "alias/imvault-digests",
          Message: hash,
          MessageType: "DIGEST",
          SigningAlgorithm: "ECDSA_SHA_256",
        },
      },
    ]);
    expect(signature.length).toBeGreaterThan(60);
  });

  it("exports the KMS key's public key as PEM, fetched once", async () => {
    const kms = kmsStub();
    const signer = createKmsDigestSigner({ client: kms, keyId: "k" });

    const [a, b] = [await signer.publicKeyPem(), await signer.publicKeyPem()];

    expect(a).toBe(b);
    expect(a).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(publicKeyFingerprint(a)).toBe(publicKeyFingerprint(kms.publicKey));
    expect(kms.sent.filter((s) => s.command === "GetPublicKeyCommand")).toHaveLength(1);
  });

  it("seals digests that verify with the public key alone (no AWS, no private key)", async () => {
    const root = await mkdtemp(join(tmpdir(), "imvault-kms-"));
    try {
      const store = createLocalStore({ root });
      const kms = kmsStub();
      const signer = createKmsDigestSigner({ client: kms, keyId: "k" });
      await writeArchivedHour(store, "C2C", "2024050101");

      await sealDigest({ store, signer, clock: systemClock });
      await sealDigest({ store, signer, clock: systemClock }, { emptyAfterMs: 0 });

      const verifier = signatureVerifier(kms.publicKey.export({ type: "spki", format: "pem" }).toString());
      expect(verifier.algorithm).toBe("ECDSA_SHA_256");
      for (const seq of [1, 2]) {
        const stored = await readDigest(store, digestKey(seq));
        expect(stored?.digest?.digestSignatureAlgorithm).toBe("ECDSA_SHA_256");
        expect(checkDigest(stored!, verifier)).toEqual([]);
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("a refusal from KMS is one ImvaultError naming the key and KMS's code, not retryable when access is denied", async () => {
    const signer = createKmsDigestSigner({
      client: kmsStub({ refuse: "AccessDeniedException" }),
      keyId: "k-1",
    });

    const error = await signer.sign(Buffer.alloc(32)).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ImvaultError);
    expect((error as ImvaultError).message).toBe(
      "KMS could not sign a digest with key k-1: AccessDeniedException",
    );
    expect((error as ImvaultError).retryable).toBe(false);
  });
});
