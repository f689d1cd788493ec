import { availableParallelism } from "node:os";
import {
  CHAT_TYPES,
  type ChatType,
  defaultWindow,
  hourRange,
  type IndexHourResult,
  indexHour,
  type MsgTime,
  systemClock,
  TableWorkerPool,
} from "@imvault/im-core";
import { resolveWindow } from "../args.ts";
import { cliLookbackHours, cliStore } from "../deps.ts";
import { describeError, EXIT, type ExitCode } from "../exit-codes.ts";
import { mapPool } from "../pool.ts";
import { plainTable, renderTable } from "../table.ts";
import { formatBytes, type Terminal, terminalLogger } from "../terminal.ts";

export interface IndexOptions {
  from?: MsgTime;
  to?: MsgTime;
  chatType?: ChatType;
  rebuild: boolean;
}

interface Row {
  msgTime: MsgTime;
  chatType: ChatType;
  outcome: IndexHourResult["outcome"] | "failed" | "interrupted";
  written: number;
  files: number;
  messages: number;
  bytes: number;
  error?: string;
}

/**
 * `imvault index`: writes the message table (tables/messages/…, one Parquet file per raw file) for
 * the archived hours of a window (the archive command's window and defaults), oldest first. A table
 * file already made from the same raw bytes is kept unless --rebuild. Exit 0 unless an hour failed.
 */
export async function indexCommand(
  options: IndexOptions,
  terminal: Terminal,
  signal: AbortSignal,
): Promise<ExitCode> {
  const store = await cliStore();
  const window = resolveWindow(options, defaultWindow(systemClock.now(), cliLookbackHours()));
  const chatTypes: readonly ChatType[] = options.chatType === undefined ? CHAT_TYPES : [options.chatType];
  const jobs = hourRange(window.from, window.to).flatMap((msgTime) =>
    chatTypes.map((chatType) => ({ chatType, msgTime })),
  );
  terminal.err(
    `indexing ${window.from}..${window.to} (Beijing time), ${chatTypes.join(" + ")}: ${jobs.length} hour(s)`,
  );
  const logger = terminalLogger(terminal);
  // Each file parsed on a worker thread, one per core (hours are independent), with one hour more
  // under way than threads, so that a thread never waits on the store (a local store syncs each file).
  // Where the worker's module is absent, files are converted on this thread, two hours at a time.
  const threads = availableParallelism();
  const pool = TableWorkerPool.create(threads);
  const deps = { store, logger, ...(pool === undefined ? {} : { convert: pool.convert }) };
  const done = await mapPool(
    jobs,
    pool === undefined ? 2 : threads + 1,
    async (job): Promise<Row> => {
      try {
        const r = await indexHour(job, deps, { rebuild: options.rebuild, signal });
        return {
          ...job,
          outcome: r.outcome,
          written: r.files.filter((f) => f.written).length,
          files: r.files.length,
          messages: r.files.reduce((n, f) => n + f.messages, 0),
          bytes: r.files.reduce((n, f) => n + f.bytes, 0),
        };
      } catch (error) {
        return {
          ...job,
          outcome: signal.aborted ? "interrupted" : "failed",
          written: 0,
          files: 0,
          messages: 0,
          bytes: 0,
          ...(signal.aborted ? {} : { error: describeError(error, terminal.debug) }),
        };
      }
    },
    signal,
  ).finally(() => pool?.close());
  const rows: Row[] = done.map(
    (row, i) => row ?? { ...jobs[i]!, outcome: "interrupted", written: 0, files: 0, messages: 0, bytes: 0 },
  );
  terminal.out(renderIndexSummary(rows));
  if (rows.some((r) => r.outcome === "interrupted")) return EXIT.interrupted;
  return rows.some((r) => r.outcome === "failed") ? EXIT.failure : EXIT.ok;
}

function renderIndexSummary(rows: readonly Row[]): string {
  const withErrors = rows.some((r) => r.error !== undefined);
  const table = plainTable({
    head: [
      "hour (Beijing)",
      "chat type",
      "outcome",
      "files",
      "written",
      "messages",
      "parquet",
      ...(withErrors ? ["error"] : []),
    ],
    colAligns: ["left", "left", "left", "right", "right", "right", "right", "left"],
  });
  for (const r of rows) {
    table.push([
      r.msgTime,
      r.chatType,
      r.outcome,
      r.files,
      r.written,
      r.messages,
      r.bytes === 0 ? "-" : formatBytes(r.bytes),
      ...(withErrors ? [r.error ?? ""] : []),
    ]);
  }
  return renderTable(table);
}
