import { ConfigError, ImApiError, ImvaultError, ValidationError } from "@imvault/im-core";

/** What `imvault` exits with; scripts rely on these. */
export const EXIT = {
  ok: 0,
  /** Work failed: an hour could not be archived, a file does not verify, Tencent refused. */
  failure: 1,
  /** The command line or the configuration is wrong: nothing was attempted. */
  usage: 2,
  /** Nothing failed, but some hours are still pending (Tencent has not produced them yet): run again later. */
  incomplete: 3,
  /** `verify` found no manifest to check (an empty or missing DATA_DIR, a --prefix matching nothing). */
  nothingChecked: 4,
  /** Stopped by Ctrl-C before the work was done. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof ConfigError || error instanceof ValidationError) return EXIT.usage;
  if (error instanceof Error && error.name === "AbortError") return EXIT.interrupted;
  return EXIT.failure;
}

/**
 * One readable line for an error: the message (an ImApiError's already names Tencent's code and a
 * hint), never a stack trace unless `debug`. im-core builds messages without secrets.
 */
export function describeError(error: unknown, debug = false): string {
  if (debug && error instanceof Error && error.stack !== undefined) return error.stack;
  if (error instanceof ImApiError) {
    const request = error.requestId === undefined ? "" : ` [RequestId ${error.requestId}]`;
    return `${error.message}${request}`;
  }
  if (error instanceof ImvaultError) return error.message;
  // Not Node's own words for it ("This operation was aborted"): the user stopped the command.
  if (error instanceof Error && error.name === "AbortError") return "interrupted (SIGINT or SIGTERM)";
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === "string" ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}
