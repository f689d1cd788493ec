import { writeFile } from "node:fs/promises";
import { ConfigError, publicKeyFingerprint, signatureVerifier } from "@imvault/im-core";
import { loadEvidenceConfig, loadStoreConfig } from "@imvault/runtime";
import { makeDigestSigner } from "@imvault/runtime/evidence";
import { EXIT, type ExitCode } from "../exit-codes.ts";
import type { Terminal } from "../terminal.ts";

export interface KeyExportOptions {
  out?: string;
}

/**
 * `imvault key export [--out FILE]`: the public key that checks the digests' signatures, as PEM, so
 * that `imvault verify --public-key FILE` needs neither AWS nor the private key. On a DATA_DIR it is
 * the local key's (made on first use); on a bucket, the deployment's KMS key's (DIGEST_KMS_KEY_ID, or
 * the link under `sst shell`; needs kms:GetPublicKey). Without --out the PEM goes to stdout and the
 * fingerprint to stderr, so that `> FILE` keeps only the key.
 */
export async function keyExportCommand(options: KeyExportOptions, terminal: Terminal): Promise<ExitCode> {
  const store = loadStoreConfig();
  const signer = await makeDigestSigner(store, store.kind === "s3" ? loadEvidenceConfig() : {});
  if (signer === undefined) {
    throw new ConfigError(
      "DIGEST_KMS_KEY_ID",
      "is missing: on a bucket the digests are signed by the deployment's KMS key; set its id or ARN (or run under `sst shell`)",
    );
  }
  const pem = await signer.publicKeyPem();
  const { algorithm } = signatureVerifier(pem);
  const line = `fingerprint ${publicKeyFingerprint(pem)} (${algorithm}; the SHA-256 of the public key, as each digest names it)`;
  if (options.out === undefined) {
    terminal.out(pem.trimEnd());
    terminal.err(line);
  } else {
    await writeFile(options.out, pem, { mode: 0o644 });
    terminal.out(`wrote the public key to ${options.out}`);
    terminal.out(line);
  }
  return EXIT.ok;
}
