/**
 * `@imvault/runtime/exports`: the archive function's export jobs (im-core's runExportJob). Apart from
 * lambda.ts: the export's writers (and their zip library) load only in the function that runs them.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ArchiveStore,
  type Clock,
  type ExportJob,
  type ExportJobOutcome,
  ImvaultError,
  type Logger,
  TABLE_PREFIX,
} from "@imvault/im-core";
import { athenaExportSource } from "@imvault/im-core/athena";
import { type ExportRequest, type ExportSource, exportSearch, runExportJob } from "@imvault/im-core/export";
import { lazyAthenaClient } from "./athena.ts";
import { loadAthenaConfig, loadStoreConfig } from "./settings.ts";

/** Names the export's generator in its manifest. */
const GENERATOR = "imvault (export job)";

/**
 * The export-job runner over `store`: rows from Athena when it is configured (always in AWS), else
 * from the DuckDB table under a local DATA_DIR (`imvault dev`); the export is written under the OS
 * temp directory (Lambda's /tmp) before it is zipped.
 */
export function exportJobRunner(deps: {
  store: ArchiveStore;
  clock: Clock;
  logger: Logger;
}): (job: ExportJob, signal: AbortSignal | undefined) => Promise<ExportJobOutcome> {
  const athena = loadAthenaConfig();
  const storeConfig = loadStoreConfig();
  const client = athena === undefined ? undefined : lazyAthenaClient();
  const openSource = async (request: ExportRequest): Promise<ExportSource & { close?(): void }> => {
    const search = exportSearch(request);
    if (athena !== undefined && client !== undefined) {
      return athenaExportSource({ client, workgroup: athena.workgroup, database: athena.database }, search);
    }
    if (storeConfig.kind === "local") {
      // DuckDB is a native library the Lambda bundles leave out: its module is named at run time.
      const entry = ["@imvault/im-core", "duckdb"].join("/");
      const duckdb = (await import(entry)) as typeof import("@imvault/im-core/duckdb");
      return duckdb.openDuckdbExportSource(join(storeConfig.dataDir, TABLE_PREFIX), search);
    }
    throw new ImvaultError("exports need the message table: this deployment has no Athena settings", {
      retryable: false,
    });
  };
  return (job, signal) =>
    runExportJob({ ...deps, openSource, tmpDir: tmpdir(), generator: GENERATOR }, job, signal);
}
