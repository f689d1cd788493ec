/**
 * `@imvault/runtime/evidence`: who signs digests. On a local store, the Ed25519 key under
 * DATA_DIR/.imvault (created on first use); on a bucket, the deployment's KMS key, loaded only here
 * (the scheduler and the CLI): the archive and api functions never load the KMS client.
 */
import { type DigestSigner, existingLocalSigner, localSigner } from "@imvault/im-core";
import type { EvidenceConfig, StoreConfig } from "./settings.ts";

/**
 * The signer for `store`, or undefined when there is none to use: a bucket without a KMS key, or
 * (with `create: false`) a DATA_DIR that has no key yet.
 */
export async function makeDigestSigner(
  store: StoreConfig,
  evidence: EvidenceConfig,
  options: { create?: boolean } = {},
): Promise<DigestSigner | undefined> {
  if (store.kind === "local") {
    return options.create === false ? existingLocalSigner(store.dataDir) : localSigner(store.dataDir);
  }
  if (evidence.kmsKeyId === undefined) return undefined;
  const { createKmsDigestSigner, makeKmsClient } = await import("./kms.ts");
  return createKmsDigestSigner({ client: makeKmsClient(), keyId: evidence.kmsKeyId });
}
