import type { CosSigResult } from "@imvault/im-core";
import { getCosSig, validateCosSigRequest } from "@imvault/im-core";
import { cliCosSigLimits, cliImClient } from "../deps.ts";
import { EXIT, type ExitCode } from "../exit-codes.ts";
import { plainTable, renderTable } from "../table.ts";
import { type Terminal, terminalLogger } from "../terminal.ts";

export interface SigOptions {
  json: boolean;
}

/**
 * `imvault sig URL…`: FULL_CONTROL signed URLs for rich-media URLs, checked against the same rules as
 * `POST /v1/cos-sig` before anything is sent. ResourceIDs are the URLs' positions (1, 2, …). Exits 0
 * when Tencent answered for every URL (whatever each one's status), 1 when any item came back with an
 * error code.
 */
export async function sigCommand(urls: string[], options: SigOptions, terminal: Terminal): Promise<ExitCode> {
  const limits = cliCosSigLimits();
  const items = validateCosSigRequest(
    { RawURLs: urls.map((RawURL, i) => ({ ResourceID: i + 1, RawURL })) },
    // The terminal may ask for more than one API request holds: getCosSig sends them in chunks.
    { allowHosts: limits.allowHosts, maxItems: Math.max(limits.maxItems, urls.length) },
  );
  const { client } = cliImClient(terminalLogger(terminal));
  const results = await getCosSig(client, items, { chunkSize: limits.maxItems });
  if (options.json) terminal.out(JSON.stringify({ PreSigURLs: results }, null, 2));
  else terminal.out(renderSig(results));
  return results.some((r) => r.Code !== 0) ? EXIT.failure : EXIT.ok;
}

export function renderSig(results: readonly CosSigResult[]): string {
  const table = plainTable({
    head: ["ResourceID", "status", "expires", "signed URL"],
    // No wrapping: a signed URL must stay one line to be copied whole.
  });
  for (const r of results) {
    const status = r.Code === 0 ? r.StatusText : `error ${r.Code}${r.Desc ? `: ${r.Desc}` : ""}`;
    table.push([r.ResourceID, status, r.PreSigURL === "" ? "" : r.ExpiresAt, r.PreSigURL || "-"]);
  }
  return renderTable(table);
}
