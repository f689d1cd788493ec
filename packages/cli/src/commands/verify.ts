import { existsSync } from "node:fs";
import { verifyArchive } from "@imvault/im-core";
import { cliStore, cliStoreLabel } from "../deps.ts";
import { EXIT, type ExitCode } from "../exit-codes.ts";
import { formatBytes, type Terminal } from "../terminal.ts";

export interface VerifyOptions {
  prefix?: string;
}

/**
 * `imvault verify`: re-reads every stored file against its manifest (sizes and MD5s of the GZip and
 * the plain bytes, message framing). Exits 1 naming each file that is missing or differs and each
 * manifest that is corrupt; exits 4 when there was no manifest to check at all (an empty or missing
 * DATA_DIR, a wrong bucket, a --prefix matching nothing): "ok" only ever means something was checked.
 */
export async function verifyCommand(options: VerifyOptions, terminal: Terminal): Promise<ExitCode> {
  const store = await cliStore();
  let checked = 0;
  let lastShown = 0;
  const report = await verifyArchive(store, {
    ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
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
  for (const p of report.problems) terminal.out(`${p.problem}: ${p.key} (${p.detail})`);
  if (report.manifests === 0) {
    const where = cliStoreLabel();
    const missing = where.localDir !== undefined && !existsSync(where.localDir) ? " (it does not exist)" : "";
    terminal.out(
      `nothing checked: no manifest under ${options.prefix ?? "manifests/"} in ${where.label}${missing}`,
    );
    return EXIT.nothingChecked;
  }
  const summary = `${report.manifests} manifest(s), ${report.files} file(s), ${formatBytes(report.bytes)} re-hashed`;
  if (report.problems.length === 0) {
    terminal.out(`ok: ${summary}; every file matches its manifest`);
    return EXIT.ok;
  }
  terminal.out(`FAILED: ${summary}; ${report.problems.length} problem(s)`);
  return EXIT.failure;
}
