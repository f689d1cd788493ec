/**
 * The queue's export job (docs/export.md, "From the API"): runs the export into a temp directory,
 * streams it as a zip (its files and export-manifest.json) to `exports/{id}/export.zip`, then writes
 * `exports/{id}/status.json` last: succeeded with the zip's size and SHA-256, or failed with the
 * reason. A retry of a finished export changes nothing; a retry of an unfinished one starts over
 * (nothing but a succeeded status.json marks a zip as finished, and that is never written over).
 */
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { Transform } from "node:stream";
import { ZipFile } from "yazl";
import { ImvaultError, ValidationError } from "../errors.ts";
import type { ExportJob } from "../queue/job.ts";
import type { ArchiveStore } from "../store/port.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import {
  exportObjectKey,
  readJsonObject,
  type StoredExportRequest,
  type StoredExportStatus,
} from "./api-exports.ts";
import { EXPORT_MANIFEST } from "./manifest.ts";
import type { ExportRequest } from "./request.ts";
import { runExport } from "./run-export.ts";
import type { ExportSource } from "./source.ts";

export interface ExportJobDeps {
  store: ArchiveStore;
  clock: Clock;
  logger: Logger;
  /** The message table's rows for a request: Athena in AWS, DuckDB on one machine. */
  openSource(request: ExportRequest): Promise<ExportSource & { close?(): void | Promise<void> }>;
  /** Where the export is written before it is zipped (Lambda: /tmp). */
  tmpDir: string;
  /** What made the export, for its manifest ("imvault 0.1.0"). */
  generator: string;
}

export interface ExportJobResult {
  outcome: "succeeded" | "failed" | "already-done";
  messages?: number;
  size?: number;
  sha256?: string;
  error?: string;
}

export async function runExportJob(
  deps: ExportJobDeps,
  job: ExportJob,
  signal?: AbortSignal,
): Promise<ExportJobResult> {
  const statusKey = exportObjectKey(job.id, "status.json");
  const zipKey = exportObjectKey(job.id, "export.zip");
  const done = await readJsonObject<StoredExportStatus>(deps.store, statusKey);
  if (done?.state === "succeeded" && (await deps.store.head(zipKey)) !== undefined) {
    return { outcome: "already-done", ...(done.size === undefined ? {} : { size: done.size }) };
  }
  const asked = await readJsonObject<StoredExportRequest>(
    deps.store,
    exportObjectKey(job.id, "request.json"),
  );
  const writeStatus = (status: Omit<StoredExportStatus, "id" | "at">) =>
    deps.store.put(
      statusKey,
      `${JSON.stringify({ id: job.id, ...status, at: new Date(deps.clock.now()).toISOString() }, null, 2)}\n`,
    );
  await writeStatus({ state: "running" });

  const work = await mkdtemp(join(deps.tmpDir, "imvault-export-"));
  try {
    const source = await deps.openSource(job.request);
    let manifest: Awaited<ReturnType<typeof runExport>>;
    const out = join(work, "export");
    try {
      manifest = await runExport(
        { store: deps.store, source, clock: deps.clock },
        {
          request: job.request,
          out,
          requestedBy: asked?.requestedBy ?? "api",
          generator: deps.generator,
          ...(signal === undefined ? {} : { signal }),
        },
      );
    } finally {
      await source.close?.();
    }
    const paths = [...manifest.files.map((f) => f.path), EXPORT_MANIFEST];
    const zipped = await putZip(deps.store, zipKey, out, paths);
    await writeStatus({ state: "succeeded", ...zipped });
    return { outcome: "succeeded", messages: manifest.messages, ...zipped };
  } catch (error) {
    // A request the table cannot answer (a window past the archive) fails for good; anything else
    // (Athena, the store, the deadline) is tried again by the queue, and says so.
    const final = error instanceof ValidationError;
    const retrying = !final && !(error instanceof ImvaultError && !error.retryable);
    const reason = error instanceof Error ? error.message : String(error);
    await writeStatus({
      state: "failed",
      error: retrying ? `${reason} (the export is tried again)` : reason,
      retrying,
    });
    if (retrying) throw error;
    return { outcome: "failed", error: reason };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Streams the export's files into a zip object, hashing the bytes as they go. */
async function putZip(
  store: ArchiveStore,
  key: string,
  dir: string,
  paths: string[],
): Promise<{ size: number; sha256: string }> {
  const zip = new ZipFile();
  for (const path of paths) {
    // Media are compressed already; the text files (jsonl, html, the manifest) shrink.
    const compress = /\.(jsonl|html|json|rsmf|eml)$/i.test(path);
    zip.addFile(join(dir, ...path.split("/")), path, { compress });
  }
  zip.end();
  const hash = createHash("sha256");
  let size = 0;
  const counting = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  (zip as unknown as NodeJS.EventEmitter).on("error", (error: Error) => counting.destroy(error));
  zip.outputStream.on("error", (error: Error) => counting.destroy(error));
  zip.outputStream.pipe(counting);
  await store.put(key, counting);
  return { size, sha256: hash.digest("hex") };
}
