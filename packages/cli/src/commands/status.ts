import { existsSync } from "node:fs";
import type { Coverage, CoverageMedia, CoverageStatus, EvidenceStatus } from "@imvault/im-core";
import { hourEnd, manifestKey, recentCoverage, systemClock } from "@imvault/im-core";
import { cliLookbackHours, cliSettleHours, cliStore, cliStoreLabel } from "../deps.ts";
import { EXIT, type ExitCode } from "../exit-codes.ts";
import { plainTable, renderTable } from "../table.ts";
import { formatBytes, type Terminal } from "../terminal.ts";

export interface StatusOptions {
  hours?: number;
  json: boolean;
}

/**
 * `imvault status`: per hour and chat type of the last N ended Beijing hours, what the manifests say
 * (archived / empty / expired), `missing`, or `corrupt` (a manifest that is not JSON or not a
 * manifest: named under the table), and for each hour with a manifest its media: captured/missing/
 * refused counts, or `pending` until they are captured. A missing hour that ended less than
 * SETTLE_HOURS ago shows `pending`, as on the console: Tencent may not have made its files yet, so it
 * is not at risk. `--json` prints what `GET /v1/status` answers. Exits 0: it reports, it does not
 * judge (the archive command, verify and the alarms do).
 */
export async function statusCommand(options: StatusOptions, terminal: Terminal): Promise<ExitCode> {
  const hours = options.hours ?? cliLookbackHours();
  const result = await recentCoverage({ store: await cliStore(), clock: systemClock }, hours);
  const { localDir } = cliStoreLabel();
  if (localDir !== undefined && !existsSync(localDir)) {
    // Every hour shows `missing`: say why, rather than let it look like a lost archive.
    terminal.err(`note: DATA_DIR ${localDir} does not exist: nothing has been archived there`);
  }
  if (options.json) {
    terminal.out(JSON.stringify(result, null, 2));
    return EXIT.ok;
  }
  terminal.out(renderStatus(result, { nowMs: systemClock.now(), settleHours: cliSettleHours() }));
  return EXIT.ok;
}

/** What tells a `missing` hour that is not at risk yet (`pending`) from one that is. */
export interface SettleWindow {
  nowMs: number;
  /** SETTLE_HOURS: how long after an hour ends Tencent may still be making its files. */
  settleHours: number;
}

/** Always shown in the totals line; `corrupt` only when some manifest is. */
const ORDER: readonly CoverageStatus[] = ["archived", "empty", "expired", "missing"];

/** `12/1/0` (captured/missing/refused), `pending`, `corrupt`, or nothing while the hour is not archived. */
function mediaText(media: CoverageMedia | undefined): string {
  if (media === undefined) return "";
  if (typeof media === "string") return media;
  return `${media.captured}/${media.missing}/${media.refused}`;
}

/**
 * One row per hour (newest first), per chat type its status (`pending` for a missing hour within
 * `settle`) and files and, once any hour has a manifest, its media (captured/missing/refused), then
 * the totals.
 */
export function renderStatus(coverage: Coverage, settle?: SettleWindow): string {
  const settling = (msgTime: string) =>
    settle !== undefined && settle.nowMs < hourEnd(msgTime) + settle.settleHours * 3_600_000;
  let pending = 0;
  const chatTypes = [...new Set(coverage.rows.map((r) => r.chatType))];
  const withMedia = coverage.rows.some((r) => r.media !== undefined);
  const columns = (c: string) => [c, `${c} files`, ...(withMedia ? [`${c} media c/m/r`] : [])];
  const aligns = () => ["left" as const, "right" as const, ...(withMedia ? ["right" as const] : [])];
  const table = plainTable({
    head: ["hour (Beijing)", ...chatTypes.flatMap(columns)],
    colAligns: ["left", ...chatTypes.flatMap(aligns)],
  });
  const byHour = new Map<string, Map<string, (typeof coverage.rows)[number]>>();
  for (const row of coverage.rows) {
    const hour = byHour.get(row.msgTime) ?? new Map();
    hour.set(row.chatType, row);
    byHour.set(row.msgTime, hour);
  }
  for (const msgTime of [...byHour.keys()].sort().reverse()) {
    const hour = byHour.get(msgTime)!;
    table.push([
      msgTime,
      ...chatTypes.flatMap((c) => {
        const row = hour.get(c);
        const media = withMedia ? [mediaText(row?.media)] : [];
        if (row === undefined) return ["", "", ...media];
        const files = row.status === "archived" ? `${row.files} (${formatBytes(row.bytes)})` : "";
        if (row.status === "missing" && settling(row.msgTime)) {
          pending++;
          return ["pending", files, ...media];
        }
        return [row.status, files, ...media];
      }),
    ]);
  }
  // `corrupt` only when there is one: the usual line stays as scripts know it.
  const shown = (coverage.totals.corrupt ?? 0) > 0 ? [...ORDER, "corrupt" as const] : ORDER;
  const settled =
    pending === 0
      ? ""
      : ` (${pending} of them pending: ended less than ${settle!.settleHours} h ago, SETTLE_HOURS)`;
  const totals = shown
    .map((s) => `${coverage.totals[s] ?? 0} ${s}${s === "missing" ? settled : ""}`)
    .join(", ");
  const corrupt = coverage.rows
    .filter((r) => r.status === "corrupt")
    .map(
      (r) =>
        `corrupt manifest: ${manifestKey(r.chatType, r.msgTime)} (\`imvault verify\` says why; \`imvault archive\` of the hour keeps it under manifests-corrupt/ and writes a fresh one)`,
    );
  return [
    `${renderTable(table)}`,
    // Above the totals, which stay the last line (or the corrupt manifests' lines after them).
    ...mediaLine(coverage),
    ...evidenceLine(coverage),
    `${coverage.from}..${coverage.to}: ${totals}`,
    ...corrupt,
  ].join("\n");
}

/**
 * The media of the window's hours in one line, with what `c/m/r` stands for (absent while no hour is
 * archived), e.g. `media (c/m/r = captured/missing/refused): 8509/79/0 from 12 media manifests; 4 hours
 * and chat types pending (…)`.
 */
function mediaLine(coverage: Coverage): string[] {
  const sum = { captured: 0, missing: 0, refused: 0 };
  let counted = 0;
  let pending = 0;
  let corrupt = 0;
  for (const { media } of coverage.rows) {
    if (media === undefined) continue;
    if (media === "pending") pending++;
    else if (media === "corrupt") corrupt++;
    else {
      counted++;
      sum.captured += media.captured;
      sum.missing += media.missing;
      sum.refused += media.refused;
    }
  }
  if (counted + pending + corrupt === 0) return [];
  const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  const parts = [
    `${sum.captured}/${sum.missing}/${sum.refused} from ${count(counted, "media manifest", "media manifests")}`,
  ];
  if (pending > 0) {
    const hours = count(pending, "hour and chat type", "hours and chat types");
    parts.push(`${hours} pending (\`imvault media\` captures them)`);
  }
  if (corrupt > 0) parts.push(count(corrupt, "corrupt media manifest", "corrupt media manifests"));
  return [`media (c/m/r = captured/missing/refused): ${parts.join("; ")}`];
}

/** One line on the chain of digests, under the table (absent when it could not be read). */
function evidenceLine(coverage: Coverage & { evidence?: EvidenceStatus }): string[] {
  const e = coverage.evidence;
  if (e === undefined) return [];
  const head =
    e.head === null
      ? "none sealed yet"
      : `head ${e.head.key} (number ${e.head.seq}, sealed ${e.head.sealedAt})`;
  const last =
    e.lastVerified === null
      ? "never verified"
      : `last verified ${e.lastVerified.at}: ${e.lastVerified.ok ? "ok" : "FAILED"} (${e.lastVerified.summary})`;
  return [`digests: ${head}; ${last}`];
}
