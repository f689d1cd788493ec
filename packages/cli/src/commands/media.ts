import {
  CHAT_TYPES,
  type ChatType,
  type MediaDeps,
  type MsgTime,
  mediaWindow,
  planMedia,
  StoreUnavailableError,
  systemClock,
} from "@imvault/im-core";
import { checkMediaWindow, resolveWindow } from "../args.ts";
import { cliImClient, cliMediaConfig, cliStore } from "../deps.ts";
import type { ExitCode } from "../exit-codes.ts";
import { mapPool } from "../pool.ts";
import { startProgress } from "../progress.ts";
import { formatBytes, type Terminal, terminalLogger } from "../terminal.ts";
import { countingStore } from "./counting-store.ts";
import { cliCosSig, runHourMedia } from "./media-run.ts";
import { type MediaRow, mediaExitCode, renderMediaSummary } from "./media-summary.ts";

export interface MediaOptions {
  from?: MsgTime;
  to?: MsgTime;
  chatType?: ChatType;
  concurrency: number;
}

/**
 * `imvault media`: captures (or tries again) the media of hours already archived, like the scheduler's
 * media jobs but now and here: every hour of the window (default: the last IM_MEDIA_RETENTION_DAYS
 * days, as far back as Tencent keeps media) whose history manifest is committed and whose media
 * manifest is missing, oldest first, `concurrency` hours at a time, each with IM_MEDIA_CONCURRENCY
 * downloads. A store that cannot be written stops the command at once (one line, exit 1).
 */
export async function mediaCommand(
  options: MediaOptions,
  terminal: Terminal,
  signal: AbortSignal,
): Promise<ExitCode> {
  const setupLogger = terminalLogger(terminal);
  const im = cliImClient(setupLogger, { shareRateLimit: true });
  const config = cliMediaConfig(im.config);
  const now = systemClock.now();
  // A window refused touches nothing: checked before the store is opened (and DATA_DIR made).
  const window = resolveWindow(options, mediaWindow(now, config.retentionDays));
  const { warning } = checkMediaWindow(window, now, config.retentionDays);
  if (warning !== undefined) terminal.err(`warning: ${warning}`);
  const store = await cliStore({ forWriting: true });
  const chatTypes: readonly ChatType[] = options.chatType === undefined ? CHAT_TYPES : [options.chatType];
  const plan = await planMedia(store, window, now, {
    chatTypes,
    overdueAfterHours: config.retentionDays * 12,
  });
  terminal.err(
    `capturing media of ${window.from}..${window.to} (Beijing time), ${chatTypes.join(" + ")}: ${plan.jobs.length} hour(s) to capture, ${options.concurrency} at a time (${plan.captured} captured before, ${plan.notArchived} not archived)`,
  );

  const progress = startProgress(terminal, plan.jobs.length, "media");
  const deps: MediaDeps = {
    // On a terminal the bar shows the bytes and speed of the media streaming in.
    store: terminal.interactive ? countingStore(store, progress.bytes) : store,
    getCosSig: cliCosSig(im.client),
    clock: systemClock,
    logger: terminalLogger(terminal, progress.log),
    config,
  };
  const storeDown = new AbortController();
  let storeFailure: StoreUnavailableError | undefined;
  const jobSignal = AbortSignal.any([signal, storeDown.signal]);
  const zero = { counts: { captured: 0, missing: 0, refused: 0 }, fetched: 0, reused: 0, bytes: 0 };
  let rows: (MediaRow | undefined)[];
  try {
    rows = await mapPool(
      plan.jobs,
      options.concurrency,
      async (job): Promise<MediaRow | undefined> => {
        const base = { msgTime: job.msgTime, chatType: job.chatType };
        // What a failed or interrupted hour stored before it ended (the next run finds those).
        const stored = { ...zero };
        const onFetched = (bytes: number) => {
          stored.fetched++;
          stored.bytes += bytes;
        };
        let row: MediaRow;
        try {
          const run = await runHourMedia(job, { ...deps, onFetched }, jobSignal, signal, terminal.debug);
          if (run.outcome === "failed") row = { ...base, ...stored, outcome: "failed", error: run.error };
          else if (run.outcome === "interrupted") row = { ...base, ...stored, outcome: "interrupted" };
          else {
            const { fetched, reused, bytes } = run.result;
            const counts = "counts" in run ? run.counts : zero.counts;
            row = { ...base, outcome: run.outcome, counts, fetched, reused, bytes };
          }
        } catch (error) {
          if (!(error instanceof StoreUnavailableError)) throw error;
          storeFailure ??= error;
          storeDown.abort();
          return undefined;
        }
        // Another hour found the store unwritable: this one was cut short by that, not failed.
        if (storeFailure !== undefined) return undefined;
        const { counts } = row;
        const size = row.bytes > 0 ? `, ${formatBytes(row.bytes)}` : "";
        const error = row.error === undefined ? "" : `: ${row.error}`;
        progress.item(
          `${row.outcome} ${job.chatType} ${job.msgTime}: ${counts.captured} captured, ${counts.missing} missing, ${counts.refused} refused${size}${error}`,
          row.outcome === "failed",
        );
        return row;
      },
      jobSignal,
    );
  } finally {
    progress.stop();
  }
  if (storeFailure !== undefined) throw storeFailure;
  // Without a store failure, an hour with no row was never started: Ctrl-C came first.
  const worked = rows.filter((row) => row !== undefined);
  const notStarted = rows.length - worked.length;
  terminal.out(
    renderMediaSummary(worked, {
      ...window,
      captured: plan.captured,
      notArchived: plan.notArchived,
      notStarted,
    }),
  );
  return mediaExitCode(worked, notStarted);
}
