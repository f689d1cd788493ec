import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import {
  ConfigError,
  type DigestSignatureVerifier,
  type EvidenceReport,
  hourEnd,
  hourStart,
  listDigestKeys,
  type MsgTime,
  signatureVerifier,
  verificationRecords,
  verifyEvidence,
} from "@imvault/im-core";
import { loadEvidenceConfig, loadStoreConfig } from "@imvault/runtime";
import { makeDigestSigner } from "@imvault/runtime/evidence";
import { cliStore, cliStoreLabel } from "../deps.ts";
import { EXIT, type ExitCode } from "../exit-codes.ts";
import type { Terminal } from "../terminal.ts";
import { renderEvidence, verificationRecord } from "./verify-report.ts";

export interface VerifyOptions {
  prefix?: string;
  /** Digests whose end time falls in these Beijing hours (both inclusive). */
  from?: MsgTime;
  to?: MsgTime;
  /** A PEM public key (`imvault key export`): checks the signatures without AWS or the private key. */
  publicKey?: string;
  /** Re-check sealed files against their manifest's sizes and MD5s too. */
  deep?: boolean;
  /** A line for every valid digest and object too, not only the others. */
  verbose?: boolean;
}

/**
 * `imvault verify`: the chain of digests from its head back, as CloudTrail's validate-logs (each
 * digest valid or INVALID; each sealed manifest, raw file and media file valid, modified, missing or
 * moved; what was committed after the head), and today's re-hash of every file against its manifest
 * (a file a digest seals is checked against its sealed SHA-256, which pins every byte; --deep checks
 * the manifest's MD5s too). Exits 1 on anything wrong, 4 when there was nothing to check (no manifest
 * and no digest: an empty or missing DATA_DIR, a wrong bucket, a --prefix matching nothing). Records
 * the result of a whole verification (no window, no prefix) in DATA_DIR/.imvault/verified/ or
 * digests-verified/last.json, for `status` and for the next verification, which checks that the head
 * it saw is still there.
 */
export async function verifyCommand(options: VerifyOptions, terminal: Terminal): Promise<ExitCode> {
  const store = await cliStore();
  const chained = (await listDigestKeys(store)).length > 0;
  const verifier = await publicKeyVerifier(options.publicKey, chained);
  const records = verificationRecords(store);
  const previous = await records.read();
  let checked = 0;
  let lastShown = 0;
  const window = {
    ...(options.from === undefined ? {} : { from: hourStart(options.from) }),
    ...(options.to === undefined ? {} : { to: hourEnd(options.to) - 1 }),
  };
  const report: EvidenceReport = await verifyEvidence(store, {
    verifier,
    now: Date.now(),
    previous,
    ...(Object.keys(window).length === 0 ? {} : { window }),
    ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
    ...(options.deep === undefined ? {} : { deep: options.deep }),
    onFile: (key, ok) => {
      checked++;
      if (!ok) terminal.err(`differs or missing: ${key}`);
      // The number of files is not known up front: a progress line every 100 files.
      if (checked - lastShown >= 100) {
        lastShown = checked;
        terminal.err(`verified ${checked} file(s)`);
      }
    },
  });
  // With --prefix only the manifests and sealed objects under it count; without, the chain counts too.
  const chainChecked = report.chained && options.prefix === undefined;
  if (report.files.manifests === 0 && report.objects.length === 0 && !chainChecked) {
    const where = cliStoreLabel();
    const missing = where.localDir !== undefined && !existsSync(where.localDir) ? " (it does not exist)" : "";
    terminal.out(
      `nothing checked: no manifest under ${options.prefix ?? "manifests/"} in ${where.label}${missing}`,
    );
    return EXIT.nothingChecked;
  }
  const lines = renderEvidence(report, {
    verbose: options.verbose === true,
    keyGiven: verifier !== undefined,
  });
  for (const line of lines) terminal.out(line);
  // Only a verification of the whole archive is its "last verified" (status, the console), and the
  // head the next one checks for; one of a window or a prefix says so and records nothing.
  const whole = options.prefix === undefined && Object.keys(window).length === 0;
  if (verifier !== undefined && report.chained) {
    if (!whole) {
      terminal.out("not recorded as the archive's last verification: only part of it was verified");
    } else {
      await records.write(verificationRecord(report, new Date())).catch((error: unknown) => {
        terminal.err(
          `warning: could not record this verification: ${error instanceof Error ? error.message : String(error)}`,
        );
      });
    }
  }
  return report.ok ? EXIT.ok : EXIT.failure;
}

/**
 * The verifier of the digests' signatures: the given PEM file's key; else on a DATA_DIR its own key,
 * on a bucket the KMS key's public half (DIGEST_KMS_KEY_ID). None is needed while there is no digest.
 */
async function publicKeyVerifier(
  file: string | undefined,
  chained: boolean,
): Promise<DigestSignatureVerifier | undefined> {
  if (file !== undefined) {
    const pem = await readFile(file, "utf8").catch((error: unknown) => {
      throw new ConfigError(
        "--public-key",
        `cannot be read: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
    return signatureVerifier(pem);
  }
  if (!chained) return undefined;
  const store = loadStoreConfig();
  const signer = await makeDigestSigner(store, store.kind === "s3" ? loadEvidenceConfig() : {}, {
    create: false,
  });
  if (signer === undefined) {
    throw new ConfigError(
      "--public-key",
      "is needed: the digests cannot be checked without the public key (`imvault key export --out FILE` where the key is)",
    );
  }
  return signatureVerifier(await signer.publicKeyPem());
}
