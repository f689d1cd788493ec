import type { HourJob, MediaDeps } from "@imvault/im-core";
import {
  type ArchiveDeps,
  archiveHour,
  CHAT_TYPES,
  type ChatType,
  ConfigError,
  defaultWindow,
  getHistory,
  hourRange,
  indexHour,
  type MsgTime,
  StoreUnavailableError,
  systemClock,
} from "@imvault/im-core";
import { checkWindowReachable, resolveWindow } from "../args.ts";
import { cliArchiveConfig, cliImClient, cliMediaConfig, cliStore } from "../deps.ts";
import { describeError, type ExitCode } from "../exit-codes.ts";
import { mapPool } from "../pool.ts";
import { startProgress } from "../progress.ts";
import { formatBytes, type Terminal, terminalLogger } from "../terminal.ts";
import {
  archiveExitCode,
  failedRow,
  type HourRow,
  type MediaCell,
  mediaCellText,
  renderArchiveSummary,
} from "./archive-summary.ts";
import { countingStore } from "./counting-store.ts";
import { cliCosSig, runHourMedia } from "./media-run.ts";
import { sealAfterCommit } from "./seal-after.ts";

export interface ArchiveOptions {
  from?: MsgTime;
  to?: MsgTime;
  chatType?: ChatType;
  concurrency: number;
  /** Archive even a window wholly past Tencent's retention, or reaching an hour not ended yet. */
  force?: boolean;
  /** false: leave the message table of the archived hours to a later `imvault index`. */
  index?: boolean;
  /** Capture each hour's media after its commit (default); false: `--no-media`. */
  media?: boolean;
}

/** Outcomes after which the hour has a manifest, so its media can be captured. */
const COMMITTED: ReadonlySet<HourRow["outcome"]> = new Set(["archived", "empty", "expired", "skipped"]);
/** Outcomes that wrote a manifest in this run (a digest seals them). */
const WROTE_MANIFEST: ReadonlySet<HourRow["outcome"]> = new Set(["archived", "empty", "expired"]);

const NO_CREDENTIALS_HINT =
  "set IM_SDKAPPID and IM_SECRET_KEY (and IM_REGION or IM_BASE_URL) for your Tencent IM app; " +
  "to try imvault without one, `imvault dev` runs everything against the bundled simulator";

/**
 * `imvault archive`: archives a window of hours now, calling im-core's archiveHour directly (no
 * queue), oldest hour first (closest to Tencent's deletion), `concurrency` hours at a time. A store
 * that cannot be written stops the whole command at once: it throws that one error (one line, exit 1)
 * instead of failing every hour of the window the same way. Unless `--no-media`, each hour's media
 * are captured right after its commit, on the same ImClient (one rate limit for both calls).
 */
export async function archiveCommand(
  options: ArchiveOptions,
  terminal: Terminal,
  signal: AbortSignal,
): Promise<ExitCode> {
  const setupLogger = terminalLogger(terminal);
  let im: ReturnType<typeof cliImClient>;
  try {
    im = cliImClient(setupLogger, { shareRateLimit: true });
  } catch (error) {
    if (error instanceof ConfigError && /IM_SDKAPPID|IM_SECRET_KEY/.test(error.setting)) {
      const problem = error.message.slice(`configuration: ${error.setting} `.length);
      throw new ConfigError(error.setting, `${problem}; ${NO_CREDENTIALS_HINT}`);
    }
    throw error;
  }
  const config = cliArchiveConfig(im.config);
  const store = await cliStore({ forWriting: true });
  const window = resolveWindow(options, defaultWindow(systemClock.now(), config.lookbackHours));
  if (options.force !== true) {
    const { warning } = checkWindowReachable(window, systemClock.now(), config.retentionDays);
    if (warning !== undefined) terminal.err(`warning: ${warning}`);
  }
  const chatTypes: readonly ChatType[] = options.chatType === undefined ? CHAT_TYPES : [options.chatType];
  const jobs: HourJob[] = hourRange(window.from, window.to).flatMap((msgTime) =>
    chatTypes.map((chatType) => ({ v: 1 as const, chatType, msgTime })),
  );
  terminal.err(
    `archiving ${window.from}..${window.to} (Beijing time), ${chatTypes.join(" + ")}: ${jobs.length} hour job(s), ${options.concurrency} at a time${options.media === false ? ", without media" : ", with their media"}`,
  );

  const progress = startProgress(terminal, jobs.length, "archiving");
  const logger = terminalLogger(terminal, progress.log);
  const deps: ArchiveDeps = {
    getHistory: (chatType, msgTime, s) =>
      getHistory(im.client, chatType, msgTime, s === undefined ? {} : { signal: s }),
    // On a terminal the bar shows bytes and speed while a big hour streams in; elsewhere each hour's
    // line says its bytes, and the store gets the body without the counting step.
    store: terminal.interactive ? countingStore(store, progress.bytes) : store,
    clock: systemClock,
    logger,
    config,
  };
  const media: MediaDeps | undefined =
    options.media === false
      ? undefined
      : {
          store: deps.store,
          getCosSig: cliCosSig(im.client),
          clock: systemClock,
          logger,
          config: cliMediaConfig(im.config),
        };

  const storeDown = new AbortController();
  let storeFailure: StoreUnavailableError | undefined;
  const jobSignal = AbortSignal.any([signal, storeDown.signal]);
  let rows: (HourRow | undefined)[];
  try {
    rows = await mapPool(
      jobs,
      options.concurrency,
      async (job): Promise<HourRow | undefined> => {
        const base = { msgTime: job.msgTime, chatType: job.chatType };
        let row: HourRow;
        try {
          const result = await archiveHour(job, deps, jobSignal);
          row = { ...base, ...result };
          // The table is derived: a failure to index is reported, never the hour's failure (`imvault index` redoes it).
          if (result.outcome === "archived" && options.index !== false) {
            await indexHour(job, { store, logger }, { signal }).catch((error: unknown) =>
              logger.warn("indexing failed", {
                hour: job.msgTime,
                chatType: job.chatType,
                error: describeError(error),
              }),
            );
          }
          if (media !== undefined && COMMITTED.has(row.outcome)) {
            const run = await runHourMedia(job, media, jobSignal, signal, terminal.debug);
            let cell: MediaCell | undefined;
            if (run.outcome === "captured" || run.outcome === "skipped") {
              cell = { outcome: "captured", counts: run.counts, bytes: run.result.bytes };
            } else if (run.outcome === "failed" || run.outcome === "interrupted") {
              cell = { outcome: run.outcome };
            }
            if (cell !== undefined) row.media = cell;
            if (run.outcome === "failed") row.error = `media: ${run.error}`;
          }
        } catch (error) {
          if (error instanceof StoreUnavailableError) {
            storeFailure ??= error;
            storeDown.abort();
          }
          if (storeFailure !== undefined) return undefined;
          row = signal.aborted
            ? { ...base, outcome: "interrupted", files: 0, bytes: 0, attempts: 0 }
            : failedRow(base, error, terminal.debug);
        }
        // Another hour found the store unwritable: this hour's media were cut short by that, not failed.
        if (storeFailure !== undefined) return undefined;
        const size = row.bytes > 0 ? `, ${row.files} file(s), ${formatBytes(row.bytes)}` : "";
        const error = row.error === undefined ? "" : `: ${row.error}`;
        const mediaText = row.media === undefined ? "" : `, media ${mediaCellText(row.media)}`;
        progress.item(
          `${row.outcome} ${row.chatType} ${row.msgTime}${size}${mediaText}${error}`,
          row.outcome === "failed" || row.media?.outcome === "failed",
        );
        return row;
      },
      jobSignal,
    );
  } finally {
    progress.stop();
  }
  if (storeFailure !== undefined) throw storeFailure;
  // Jobs never started because of Ctrl-C count as interrupted.
  const all: HourRow[] = rows.map(
    (row, i) =>
      row ?? {
        msgTime: jobs[i]!.msgTime,
        chatType: jobs[i]!.chatType,
        outcome: "interrupted",
        files: 0,
        bytes: 0,
        attempts: 0,
      },
  );
  terminal.out(renderArchiveSummary(all));
  // The run committed something: seal it into a digest now (docs/evidence.md).
  if (!signal.aborted && all.some((row) => WROTE_MANIFEST.has(row.outcome))) {
    terminal.out(await sealAfterCommit(store, logger));
  }
  return archiveExitCode(all);
}
