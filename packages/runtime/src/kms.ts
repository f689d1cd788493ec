/**
 * `@imvault/runtime/kms`: the digest signer in AWS, an asymmetric KMS key (ECC_NIST_P256, SIGN_VERIFY).
 * It signs the SHA-256 of a digest's string to sign as a DIGEST message with ECDSA_SHA_256, which is
 * ECDSA over SHA-256 of that string: what im-core's verifier checks with the exported public key alone.
 * Only the scheduler's role may call kms:Sign (the key policy, infra/evidence.ts).
 */
import { createPublicKey } from "node:crypto";
import { GetPublicKeyCommand, KMSClient, SignCommand } from "@aws-sdk/client-kms";
import { type DigestSigner, ImvaultError } from "@imvault/im-core";

/** What the signer needs of a KMS client (tests pass a stub). */
export interface KmsLike {
  send(command: SignCommand | GetPublicKeyCommand): Promise<unknown>;
}

export function makeKmsClient(): KMSClient {
  return new KMSClient({});
}

function kmsFailure(action: string, keyId: string, error: unknown): ImvaultError {
  const name = (error as { name?: unknown } | null)?.name;
  const code = typeof name === "string" ? name : "error";
  return new ImvaultError(`KMS could not ${action} with key ${keyId}: ${code}`, {
    retryable: !/AccessDenied|NotFound|Disabled|InvalidKeyUsage|KMSInvalidState/.test(code),
    details: { keyId, code },
    cause: error,
  });
}

/** A DigestSigner over the KMS key `keyId` (an id, ARN or alias). The public key is fetched once. */
export function createKmsDigestSigner(options: { client: KmsLike; keyId: string }): DigestSigner {
  const { client, keyId } = options;
  let publicPem: Promise<string> | undefined;
  return {
    algorithm: "ECDSA_SHA_256",
    publicKeyPem() {
      publicPem ??= (async () => {
        let answer: { PublicKey?: Uint8Array; KeySpec?: string };
        try {
          answer = (await client.send(new GetPublicKeyCommand({ KeyId: keyId }))) as typeof answer;
        } catch (error) {
          throw kmsFailure("read the public key", keyId, error);
        }
        if (answer.PublicKey === undefined || answer.KeySpec !== "ECC_NIST_P256") {
          throw new ImvaultError(
            `KMS key ${keyId} is not an ECC_NIST_P256 signing key (${answer.KeySpec ?? "no key spec"})`,
            {
              details: { keyId },
            },
          );
        }
        const der = Buffer.from(answer.PublicKey);
        return createPublicKey({ key: der, format: "der", type: "spki" })
          .export({ type: "spki", format: "pem" })
          .toString();
      })();
      publicPem.catch(() => {
        publicPem = undefined;
      });
      return publicPem;
    },
    async sign(digestHash) {
      let answer: { Signature?: Uint8Array };
      try {
        answer = (await client.send(
          new SignCommand({
            KeyId: keyId,
            Message: digestHash,
            MessageType: "DIGEST",
            SigningAlgorithm: "ECDSA_SHA_256",
          }),
        )) as typeof answer;
      } catch (error) {
        throw kmsFailure("sign a digest", keyId, error);
      }
      if (answer.Signature === undefined)
        throw new ImvaultError(`KMS answered no signature for key ${keyId}`);
      return Buffer.from(answer.Signature);
    },
  };
}
