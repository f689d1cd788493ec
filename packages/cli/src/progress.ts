import { createRequire } from "node:module";
import type { Terminal } from "./terminal.ts";

// cli-progress is loaded only for a terminal: loading it is a visible part of `imvault archive`'s
// start-up (bench/README.md, "CLI start-up"), which every scheduled or piped run, drawing no bar,
// would pay.
const require = createRequire(import.meta.url);

/**
 * Progress of a known number of items: a bar on a terminal, plain lines otherwise (logs, CI, pipes).
 * On a terminal only notable items get a line (above the bar); elsewhere every item does.
 */
export interface Progress {
  /** One item finished; `line` describes it. */
  item(line: string, notable?: boolean): void;
  /** A line that is not an item (a warning, a log line). */
  log(line: string): void;
  stop(): void;
}

export function startProgress(
  terminal: Terminal,
  total: number,
  title: string,
  /** Where the bar is drawn on a terminal; tests pass their own. */
  barStream: NodeJS.WritableStream = process.stderr,
): Progress {
  if (!terminal.interactive) {
    let done = 0;
    const width = String(total).length;
    return {
      item: (line) => terminal.err(`[${String(++done).padStart(width)}/${total}] ${line}`),
      log: (line) => terminal.err(line),
      stop: () => {},
    };
  }
  const cliProgress = require("cli-progress") as typeof import("cli-progress");
  const bars = new cliProgress.MultiBar(
    {
      stream: barStream,
      format: `${title} [{bar}] {value}/{total} {last}`,
      hideCursor: true,
      clearOnComplete: false,
      barsize: 30,
    },
    cliProgress.Presets.shades_classic,
  );
  const bar = bars.create(total, 0, { last: "" });
  return {
    item(line, notable = false) {
      if (notable) bars.log(`${line}\n`);
      bar.increment({ last: line.length > 60 ? `${line.slice(0, 57)}...` : line });
    },
    log: (line) => bars.log(`${line}\n`),
    stop() {
      // MultiBar prints logged lines only when it next redraws, and stop() does not redraw them:
      // without this, lines logged in the last 100 ms (often the last hour's failure) were lost.
      bars.update();
      bars.stop();
    },
  };
}
