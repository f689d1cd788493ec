import { createHash } from "node:crypto";
import { Writable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { pipeline } from "node:stream/promises";
import { CorruptManifestError, NotFoundError } from "../errors.ts";
import type { ArchiveStore, ObjectInfo } from "../store/port.ts";
import { createVerifier } from "../verify/verifier.ts";
import { type ManifestFile, parseManifest } from "./manifest.ts";

export interface VerifyProblem {
  manifest: string;
  key: string;
  /**
   * `mismatch`: the file differs from its manifest's figures or from the SHA-256 a digest sealed;
   * `corrupt-manifest`: not JSON or not a manifest; `unreadable-manifest`: the store failed to read it.
   */
  problem: "missing" | "mismatch" | "corrupt-manifest" | "unreadable-manifest";
  detail: string;
}

export interface VerifyReport {
  manifests: number;
  files: number;
  bytes: number;
  /** Files checked against the SHA-256 a digest sealed (the rest against their manifest's figures). */
  sealedFiles: number;
  problems: VerifyProblem[];
}

export interface VerifyArchiveOptions {
  prefix?: string;
  onFile?: (key: string, ok: boolean) => void;
  /**
   * The SHA-256 a digest sealed for a raw file. A sealed file is checked against it, which pins every
   * byte (and so the figures the manifest records, checked when the file was archived); the others
   * against the manifest's sizes, MD5s and framing, as before digests existed.
   */
  sealedSha256?: (key: string) => string | undefined;
  /** Check sealed files against their manifest's figures too, in the same read. */
  deep?: boolean;
  /** Each manifest's listing entry and bytes, as read (the digest check hashes them). */
  onManifest?: (info: ObjectInfo, bytes: Buffer) => void;
}

/**
 * Re-reads every stored file against its manifest (GZip size and MD5, plain size and MD5, framing)
 * or against its seal (see VerifyArchiveOptions), streaming each once. `onFile` reports progress.
 */
export async function verifyArchive(
  store: ArchiveStore,
  options: VerifyArchiveOptions = {},
): Promise<VerifyReport> {
  const report: VerifyReport = { manifests: 0, files: 0, bytes: 0, sealedFiles: 0, problems: [] };
  for await (const obj of store.list(options.prefix ?? "manifests/")) {
    if (!obj.key.endsWith(".json")) continue;
    report.manifests++;
    let files: ManifestFile[];
    try {
      const bytes = await buffer(await store.get(obj.key));
      options.onManifest?.(obj, bytes);
      files = parseManifest(bytes.toString("utf8"), obj.key).files;
    } catch (err) {
      report.problems.push({
        manifest: obj.key,
        key: obj.key,
        problem: err instanceof CorruptManifestError ? "corrupt-manifest" : "unreadable-manifest",
        detail: err instanceof Error ? err.message : String(err),
      });
      continue;
    }
    for (const file of files) {
      report.files++;
      const sealed = options.sealedSha256?.(file.key);
      try {
        report.bytes += await checkFile(store, file, sealed, options.deep === true);
        if (sealed !== undefined) report.sealedFiles++;
        options.onFile?.(file.key, true);
      } catch (err) {
        report.problems.push({
          manifest: obj.key,
          key: file.key,
          problem: err instanceof NotFoundError ? "missing" : "mismatch",
          detail: err instanceof Error ? err.message : String(err),
        });
        options.onFile?.(file.key, false);
      }
    }
  }
  return report;
}

/**
 * One read of a file: its SHA-256 against the seal, and/or the verifier against the manifest (whose
 * SHA-256s, where it records them, the verifier checks too, in the same pass).
 */
async function checkFile(
  store: ArchiveStore,
  file: ManifestFile,
  sealed: string | undefined,
  deep: boolean,
): Promise<number> {
  const source = await store.get(file.key);
  if (sealed === undefined || deep) {
    const { stream, figures } = createVerifier(file);
    const sink = new Writable({ write: (_chunk, _enc, cb) => cb() });
    const [, verified] = await Promise.all([pipeline(source, stream, sink), figures]);
    if (verified.messageCount !== file.messageCount) {
      throw new Error(`message count ${verified.messageCount}, manifest says ${file.messageCount}`);
    }
    if (sealed !== undefined) sealedMatches(verified.gzipSha256, sealed);
    return verified.gzipSize;
  }
  // The seal alone: one SHA-256 over the bytes as they are read, nothing inflated.
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of source) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  sealedMatches(hash.digest("hex"), sealed);
  return size;
}

function sealedMatches(actual: string, sealed: string): void {
  if (actual !== sealed) throw new Error(`SHA-256 ${actual}, but the digest sealed ${sealed}`);
}
