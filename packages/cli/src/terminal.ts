import type { Logger } from "@imvault/im-core";

/** Where a command writes: results on stdout, progress and diagnostics on stderr. Injected for tests. */
export interface Terminal {
  out(line: string): void;
  /** Bytes on stdout as they are (no newline added): text that is UTF-8 already. */
  outBytes(bytes: Uint8Array): void;
  err(line: string): void;
  /** stderr is a terminal: progress may redraw a bar instead of printing lines. */
  readonly interactive: boolean;
  /** stdout is a terminal: rows may print as an aligned table by default. */
  readonly outIsTerminal?: boolean;
  /** Print stack traces and debug log lines (env DEBUG). */
  readonly debug: boolean;
}

export function processTerminal(env: NodeJS.ProcessEnv = process.env): Terminal {
  const out = droppedOnEpipe(process.stdout);
  const err = droppedOnEpipe(process.stderr);
  return {
    out: (line) => out(`${line}\n`),
    outBytes: (bytes) => out(bytes),
    err: (line) => err(`${line}\n`),
    interactive: process.stderr.isTTY === true && env.CI === undefined,
    outIsTerminal: process.stdout.isTTY === true,
    debug: isTruthy(env.DEBUG),
  };
}

/**
 * Writes to `stream` until its reader goes away (`imvault status | head`): then the command goes on
 * (an archive run must not stop half-way because nobody reads its summary), its output is dropped,
 * and nothing crashes on EPIPE. Any other write error is thrown as before.
 */
function droppedOnEpipe(stream: NodeJS.WriteStream): (text: string | Uint8Array) => void {
  let gone = false;
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    gone = true;
  });
  return (text) => {
    if (!gone) stream.write(text);
  };
}

function isTruthy(value: string | undefined): boolean {
  return value !== undefined && value !== "" && value !== "0" && value.toLowerCase() !== "false";
}

/**
 * im-core's Logger port as readable lines on stderr: warnings and errors always, info and debug only
 * with DEBUG. `write` lets a progress bar print above itself.
 */
export function terminalLogger(terminal: Terminal, write: (line: string) => void = terminal.err): Logger {
  const line = (level: string, message: string, fields?: Record<string, unknown>) =>
    write(`${level}: ${message}${formatFields(fields)}`);
  return {
    debug: (m, f) => terminal.debug && line("debug", m, f),
    info: (m, f) => terminal.debug && line("info", m, f),
    warn: (m, f) => line("warn", m, f),
    error: (m, f) => line("error", m, f),
  };
}

export function formatFields(fields: Record<string, unknown> | undefined): string {
  if (fields === undefined) return "";
  const parts = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
  return parts.length === 0 ? "" : ` ${parts.join(" ")}`;
}

/** 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}
