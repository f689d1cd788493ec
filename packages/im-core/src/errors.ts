/**
 * imvault's error types. Everything im-core throws on purpose is an ImvaultError; the subclass says
 * what went wrong and `retryable` says whether trying the same work again can help. The HTTP API maps
 * these to statuses in one place (packages/functions/src/http/errors.ts), the CLI to exit codes
 * in one place (packages/cli/src/exit-codes.ts).
 *
 * Messages must never carry the secret key or a UserSig: callers build them from codes and names.
 */
export class ImvaultError extends Error {
  readonly retryable: boolean;
  /** Structured, secret-free details for logs and API error bodies. */
  readonly details: Record<string, unknown> | undefined;

  constructor(
    message: string,
    options: { retryable?: boolean; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }
}

/** A setting is missing or invalid: raised at start-up, naming the setting. */
export class ConfigError extends ImvaultError {
  readonly setting: string;
  constructor(setting: string, problem: string) {
    super(`configuration: ${setting} ${problem}`, { details: { setting } });
    this.setting = setting;
  }
}

/** Input from a caller (CLI argument, API body, queue message) is not acceptable. */
export class ValidationError extends ImvaultError {
  constructor(message: string, details?: Record<string, unknown>) {
    super(message, details === undefined ? {} : { details });
  }
}

/** Tencent answered ActionStatus FAIL (or an equivalent HTTP-level failure we could classify). */
export class ImApiError extends ImvaultError {
  readonly code: number;
  readonly info: string;
  readonly requestId: string | undefined;
  readonly command: string;

  constructor(args: {
    command: string;
    code: number;
    info: string;
    requestId?: string | undefined;
    retryable: boolean;
    hint?: string | undefined;
  }) {
    const hint = args.hint ? ` (${args.hint})` : "";
    super(`Tencent IM ${args.command} failed with code ${args.code}: ${args.info || "no info"}${hint}`, {
      retryable: args.retryable,
      details: { command: args.command, code: args.code, info: args.info, requestId: args.requestId },
    });
    this.code = args.code;
    this.info = args.info;
    this.requestId = args.requestId;
    this.command = args.command;
  }
}

/** The HTTP exchange with Tencent failed below the API: DNS, connection, TLS, 5xx, bad JSON. */
export class ImTransportError extends ImvaultError {
  readonly status: number | undefined;
  constructor(message: string, options: { status?: number; cause?: unknown; retryable?: boolean } = {}) {
    super(message, {
      retryable: options.retryable ?? true,
      details: options.status === undefined ? {} : { status: options.status },
      cause: options.cause,
    });
    this.status = options.status;
  }
}

/** A request to Tencent or a download took longer than allowed. */
export class TimeoutError extends ImvaultError {
  constructor(message: string, details?: Record<string, unknown>) {
    super(message, { retryable: true, ...(details === undefined ? {} : { details }) });
  }
}

/** A UserSig could not be verified. `reason` tells which check failed. */
export class UserSigError extends ImvaultError {
  readonly reason: "malformed" | "identifier" | "sdkappid" | "expired" | "signature";
  constructor(reason: UserSigError["reason"], message: string) {
    super(message, { details: { reason } });
    this.reason = reason;
  }
}

/** Downloaded bytes do not match what Tencent advertised (sizes, MD5s, message framing). */
export class IntegrityError extends ImvaultError {
  constructor(message: string, details?: Record<string, unknown>) {
    super(message, { retryable: true, ...(details === undefined ? {} : { details }) });
  }
}

/**
 * A stored manifest is not JSON or not a manifest. It is no commit: readers flag the hour `corrupt`
 * (naming `key`), the scheduler plans it again, and archiving the hour keeps these bytes aside before
 * a fresh manifest replaces them. Not retryable: reading the same bytes again cannot help.
 */
export class CorruptManifestError extends ImvaultError {
  readonly key: string;
  /** What is wrong, e.g. "not JSON" or "malformed" (then `details.issues` lists the fields). */
  readonly problem: string;
  constructor(key: string, problem: string, details: Record<string, unknown> = {}) {
    super(`manifest ${key} is corrupt: ${problem}`, { details: { key, ...details } });
    this.key = key;
    this.problem = problem;
  }
}

/** A history file is not in the documented layout. `line` is 1-based. */
export class HistoryFormatError extends ImvaultError {
  readonly line: number;
  constructor(line: number, problem: string) {
    super(`history file line ${line}: ${problem}`, { details: { line } });
    this.line = line;
  }
}

/** A URL was refused before any byte was fetched (scheme or host not allowed). */
export class UrlNotAllowedError extends ImvaultError {
  constructor(message: string, details?: Record<string, unknown>) {
    super(message, details === undefined ? {} : { details });
  }
}

/** Something that was asked for does not exist (an hour not archived, an object not stored). */
export class NotFoundError extends ImvaultError {}

/** The caller is not authenticated. */
export class AuthError extends ImvaultError {}

/** A conditional write found the key already there. */
export class AlreadyExistsError extends ImvaultError {}

/** The object is under a legal hold (`imvault hold`): it may not be deleted or replaced until released. */
export class LegalHoldError extends ImvaultError {}

/** A history file download failed (HTTP status, stall, connection). `expired` means ask for a fresh URL. */
export class DownloadError extends ImvaultError {
  readonly status: number | undefined;
  readonly expired: boolean;
  constructor(message: string, options: { status?: number; expired?: boolean; cause?: unknown } = {}) {
    super(message, {
      retryable: true,
      details: { status: options.status, expired: options.expired ?? false },
      cause: options.cause,
    });
    this.status = options.status;
    this.expired = options.expired ?? false;
  }
}

/** A request body is larger than the configured cap (the HTTP API answers 413). */
export class PayloadTooLargeError extends ImvaultError {
  readonly limitBytes: number;
  constructor(limitBytes: number, actualBytes?: number) {
    super(`the request body is larger than ${limitBytes} bytes`, {
      details: actualBytes === undefined ? { limitBytes } : { limitBytes, actualBytes },
    });
    this.limitBytes = limitBytes;
  }
}

/**
 * An hour's media could not be captured completely (a download kept failing, the store or Tencent
 * failed): no media manifest is written, and the job is retried (then dead-lettered) as a whole.
 */
export class MediaCaptureError extends ImvaultError {}

/**
 * The store refused for a reason that trying again will not fix: no permission, a read-only file
 * system, a path through a regular file, a full disk, a bucket that does not exist or may not be
 * written. The message names the path (or bucket) and the cause; never retried.
 */
export class StoreUnavailableError extends ImvaultError {
  /** The system's code for the cause, e.g. EROFS, ENOSPC, AccessDenied. */
  readonly code: string;
  constructor(message: string, options: { code: string; path?: string; cause?: unknown }) {
    super(message, {
      retryable: false,
      details: { code: options.code, ...(options.path === undefined ? {} : { path: options.path }) },
      cause: options.cause,
    });
    this.code = options.code;
  }
}
