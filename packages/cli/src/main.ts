import { EXIT } from "./exit-codes.ts";
import { type Actions, runCli } from "./program.ts";
import { processTerminal, type Terminal } from "./terminal.ts";

/**
 * The `imvault` process: parse, run one command, end with its code. The first SIGINT/SIGTERM asks
 * the command to stop cleanly (archive: abort in-flight hours, nothing half-written; dev: stop taking
 * work and let the batch in flight finish); a second one exits at once with 130.
 */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const terminal = processTerminal();
  const controller = new AbortController();
  let resolveStop: (signal: string) => void = () => {};
  const stopSignal = new Promise<string>((resolve) => {
    resolveStop = resolve;
  });
  let received = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    received++;
    if (received > 1) {
      terminal.err(`imvault: ${signal} again: stopping now`);
      process.exit(EXIT.interrupted);
    }
    controller.abort();
    resolveStop(signal);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const code = await runCli(argv, realActions(terminal, controller.signal, stopSignal), terminal);
  exitWhenIdle(code);
}

/** How long an idle handle (a kept-alive socket, a timer) may hold the process up after the command. */
const EXIT_GRACE_MS = 2_000;

/**
 * Ends the process with `code` by letting its event loop run empty, not by process.exit(): Node 24's
 * process.exit() can deadlock when a background compile job is waiting for a main-thread GC as the
 * exit begins (nodejs/node#54918: the main thread joins the platform's threads, the job never
 * finishes). It hung one `imvault archive` of a 1 GiB hour here, after the archive had completed.
 * Should a handle keep the loop alive anyway, process.exit() ends it after EXIT_GRACE_MS.
 */
function exitWhenIdle(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
}

/** Each command's module is loaded only when it runs, so `--help` and usage errors stay instant. */
function realActions(terminal: Terminal, signal: AbortSignal, stopSignal: Promise<string>): Actions {
  return {
    dev: async () => (await import("./dev/runner.ts")).runDev({ env: process.env, terminal, stopSignal }),
    archive: async (o) => {
      // The gunzip thread boots on the other core while the archive command's modules load.
      (await import("@imvault/im-core/warm-up")).warmUpGunzipThread();
      return (await import("./commands/archive.ts")).archiveCommand(o, terminal, signal);
    },
    media: async (o) => (await import("./commands/media.ts")).mediaCommand(o, terminal, signal),
    status: async (o) => (await import("./commands/status.ts")).statusCommand(o, terminal),
    verify: async (o) => (await import("./commands/verify.ts")).verifyCommand(o, terminal),
    sig: async (urls, o) => (await import("./commands/sig.ts")).sigCommand(urls, o, terminal),
    index: async (o) => (await import("./commands/index.ts")).indexCommand(o, terminal, signal),
    query: async (sql, o) => (await import("./commands/query.ts")).queryCommand(sql, o, terminal),
    search: async (o) => (await import("./commands/query.ts")).searchCommand(o, terminal),
    keyExport: async (o) => (await import("./commands/key.ts")).keyExportCommand(o, terminal),
    holdAdd: async (o) => (await import("./commands/hold.ts")).holdAddCommand(o, terminal),
    holdList: async (o) => (await import("./commands/hold.ts")).holdListCommand(o, terminal),
    holdRelease: async (id, o) => (await import("./commands/hold.ts")).holdReleaseCommand(id, o, terminal),
    exportRun: async (o) => (await import("./commands/export.ts")).exportCommand(o, terminal, signal),
    exportVerify: async (dir, o) =>
      (await import("./commands/export.ts")).exportVerifyCommand(dir, o, terminal),
  };
}
