import { createRequire } from "node:module";
import { formatBytes, type Terminal } from "./terminal.ts";

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
  /** `n` more bytes stored: the bar shows the total and the speed over the last seconds. */
  bytes(n: number): void;
  stop(): void;
}

/** The speed shown is over about this long: steady, yet quick to show a stall. */
const SPEED_WINDOW_MS = 3_000;

export function startProgress(
  terminal: Terminal,
  total: number,
  title: string,
  /** Where the bar is drawn on a terminal; tests pass their own. */
  barStream: NodeJS.WritableStream = process.stderr,
  now: () => number = Date.now,
): Progress {
  if (!terminal.interactive) {
    let done = 0;
    const width = String(total).length;
    return {
      item: (line) => terminal.err(`[${String(++done).padStart(width)}/${total}] ${line}`),
      log: (line) => terminal.err(line),
      // Each item's line already names its bytes.
      bytes: () => {},
      stop: () => {},
    };
  }
  let stored = 0;
  // (time, total bytes) when the bar was last drawn, oldest first, over about SPEED_WINDOW_MS.
  const samples: [number, number][] = [[now(), 0]];
  const transfer = (): string => {
    const t = now();
    samples.push([t, stored]);
    while (samples.length > 2 && samples[1]![0] <= t - SPEED_WINDOW_MS) samples.shift();
    const [t0, b0] = samples[0]!;
    const speed = t > t0 ? ((stored - b0) * 1000) / (t - t0) : 0;
    return stored === 0 ? "" : ` ${formatBytes(stored)} ${formatBytes(Math.round(speed))}/s`;
  };
  const cliProgress = require("cli-progress") as typeof import("cli-progress");
  const bars = new cliProgress.MultiBar(
    {
      stream: barStream,
      // A function, so the bytes and speed are those of the moment the bar is drawn (10 times a second).
      format: (options, params, payload: { last: string }) => {
        const size = options.barsize ?? 30;
        const done = Math.round(params.progress * size);
        const bar = `${options.barCompleteString?.slice(0, done) ?? ""}${options.barIncompleteString?.slice(0, size - done) ?? ""}`;
        return `${title} [${bar}] ${params.value}/${params.total}${transfer()} ${payload.last}`;
      },
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
    bytes(n) {
      stored += n;
    },
    stop() {
      // MultiBar prints logged lines only when it next redraws, and stop() does not redraw them:
      // without this, lines logged in the last 100 ms (often the last hour's failure) were lost.
      bars.update();
      bars.stop();
    },
  };
}
