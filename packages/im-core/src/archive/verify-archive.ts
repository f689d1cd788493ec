import { Writable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { pipeline } from "node:stream/promises";
import { CorruptManifestError, NotFoundError } from "../errors.ts";
import type { ArchiveStore } from "../store/port.ts";
import { createVerifier } from "../verify/verifier.ts";
import { type ManifestFile, parseManifest } from "./manifest.ts";

export interface VerifyProblem {
  manifest: string;
  key: string;
  /** `corrupt-manifest`: not JSON or not a manifest; `unreadable-manifest`: the store failed to read it. */
  problem: "missing" | "mismatch" | "corrupt-manifest" | "unreadable-manifest";
  detail: string;
}

export interface VerifyReport {
  manifests: number;
  files: number;
  bytes: number;
  problems: VerifyProblem[];
}

/**
 * Re-reads every stored file against its manifest (GZip size and MD5, plain size and MD5, framing),
 * streaming each once. `onFile` reports progress.
 */
export async function verifyArchive(
  store: ArchiveStore,
  options: { prefix?: string; onFile?: (key: string, ok: boolean) => void } = {},
): Promise<VerifyReport> {
  const report: VerifyReport = { manifests: 0, files: 0, bytes: 0, problems: [] };
  for await (const obj of store.list(options.prefix ?? "manifests/")) {
    if (!obj.key.endsWith(".json")) continue;
    report.manifests++;
    let files: ManifestFile[];
    try {
      files = parseManifest((await buffer(await store.get(obj.key))).toString("utf8"), obj.key).files;
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
      try {
        const { stream, figures } = createVerifier(file);
        const sink = new Writable({ write: (_chunk, _enc, cb) => cb() });
        const [, verified] = await Promise.all([pipeline(await store.get(file.key), stream, sink), figures]);
        report.bytes += verified.gzipSize;
        if (verified.messageCount !== file.messageCount) {
          throw new Error(`message count ${verified.messageCount}, manifest says ${file.messageCount}`);
        }
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
