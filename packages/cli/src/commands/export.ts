import { hostname, userInfo } from "node:os";
import { join } from "node:path";
import { ConfigError, type MsgTime, systemClock, TABLE_PREFIX, ValidationError } from "@imvault/im-core";
import {
  type ExportFormat,
  exportSearch,
  exportSubject,
  parseExportRequest,
  runExport,
  verifyExport,
} from "@imvault/im-core/export";
import { loadStoreConfig } from "@imvault/runtime";
import cliPackage from "../../package.json" with { type: "json" };
import { cliStore } from "../deps.ts";
import { EXIT, type ExitCode } from "../exit-codes.ts";
import { startProgress } from "../progress.ts";
import { formatBytes, type Terminal } from "../terminal.ts";

export interface ExportCommandOptions {
  user?: string;
  group?: string;
  conversation?: string;
  from?: MsgTime;
  to?: MsgTime;
  format?: ExportFormat;
  out?: string;
}

/**
 * `imvault export (--user U | --group G | --conversation C) [--from H] [--to H] --format F --out DIR`:
 * the messages the message table under DATA_DIR holds for them, with their media from the archive,
 * written whole into DIR (docs/export.md). A progress bar on a terminal, a line per file otherwise.
 */
export async function exportCommand(
  options: ExportCommandOptions,
  terminal: Terminal,
  signal: AbortSignal,
): Promise<ExitCode> {
  const { out, ...rest } = options;
  if (out === undefined) throw new ValidationError("--out <dir> is required: a new directory for the export");
  if (rest.format === undefined) throw new ValidationError("--format is required: rsmf, html or jsonl");
  const request = parseExportRequest(rest);
  const config = loadStoreConfig();
  if (config.kind !== "local") {
    throw new ConfigError(
      "ARCHIVE_BUCKET",
      "is set: imvault export reads the message table under DATA_DIR; in AWS, use POST /v1/exports",
    );
  }
  const store = await cliStore();
  const { openDuckdbExportSource } = await import("@imvault/im-core/duckdb");
  const source = await openDuckdbExportSource(join(config.dataDir, TABLE_PREFIX), exportSearch(request));
  let progress: ReturnType<typeof startProgress> | undefined;
  try {
    const manifest = await runExport(
      { store, source, clock: systemClock },
      {
        request,
        out,
        requestedBy: requestedBy(),
        generator: `imvault ${cliPackage.version}`,
        signal,
        progress: {
          planned: (slices, messages) => {
            terminal.err(
              `exporting ${exportSubject(request)}: ${messages} message(s) in ${slices} file(s), ${request.format}`,
            );
            progress = startProgress(terminal, slices, "export");
          },
          slice: (file, messages) => progress?.item(`${file}: ${messages} message(s)`),
          bytes: (n) => progress?.bytes(n),
        },
      },
    );
    progress?.stop();
    if (manifest.note !== undefined) terminal.err(`note: ${manifest.note}; the export says so`);
    const { media } = manifest;
    terminal.out(
      `exported ${manifest.messages} message(s) of ${exportSubject(request)} into ${out}: ${manifest.slices.length} file(s), ` +
        `${media.copied} media file(s) (${formatBytes(media.bytes)}), ${media.banned.length} banned, ${media.missing.length} not in the archive`,
    );
    terminal.out(
      manifest.digestChainHead === null
        ? "digest chain: nothing sealed yet"
        : `digest chain head: ${manifest.digestChainHead.key} (SHA-256 ${manifest.digestChainHead.sha256})`,
    );
    return EXIT.ok;
  } finally {
    progress?.stop();
    source.close();
  }
}

/** `imvault export verify DIR`. */
export async function exportVerifyCommand(
  dir: string,
  options: { json: boolean },
  terminal: Terminal,
): Promise<ExitCode> {
  const result = await verifyExport(dir);
  const ok = result.problems.length === 0;
  if (options.json) {
    terminal.out(JSON.stringify({ ok, checked: result.checked, problems: result.problems }, null, 2));
  } else {
    for (const problem of result.problems) terminal.out(`INVALID ${problem}`);
    terminal.out(
      ok
        ? `valid: ${result.checked} file(s) match export-manifest.json`
        : `INVALID: ${result.problems.length} problem(s), ${result.checked} file(s) checked`,
    );
  }
  return ok ? EXIT.ok : EXIT.failure;
}

function requestedBy(): string {
  let user = "unknown";
  try {
    user = userInfo().username;
  } catch {}
  return `${user}@${hostname()} (imvault export)`;
}
