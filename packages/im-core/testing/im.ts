/**
 * Test doubles for the IM client's ports (a virtual clock, a recording logger, canned Tencent answers).
 * Only tests import this file.
 */
import type { Clock } from "../src/util/clock.ts";
import type { Logger } from "../src/util/log.ts";

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
}

/** A clock whose time moves only when told to; `sleep` waits for that. */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: Timer[] = [];
  /** Every sleep asked for, in ms, in order (cancelled ones included). */
  readonly sleeps: number[] = [];

  constructor(startMs = Date.parse("2024-03-01T00:00:00Z")) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer: Timer = {
        at: this.#now + Math.max(0, ms),
        seq: this.#seq++,
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.#timers = this.#timers.filter((t) => t !== timer);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#timers.push(timer);
    });
  }

  /** Timers not yet fired or cancelled. */
  get pending(): number {
    return this.#timers.length;
  }

  /** Jumps to the earliest timer and fires every timer due then. False if there is none. */
  fireNext(): boolean {
    if (this.#timers.length === 0) return false;
    const next = Math.min(...this.#timers.map((t) => t.at));
    this.#fireUntil(next);
    return true;
  }

  /** Moves time forward by `ms`, firing due timers in order. */
  advance(ms: number): void {
    this.#fireUntil(this.#now + ms);
  }

  #fireUntil(target: number): void {
    const due = this.#timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq);
    this.#timers = this.#timers.filter((t) => t.at > target);
    for (const timer of due) {
      this.#now = Math.max(this.#now, timer.at);
      timer.resolve();
    }
    this.#now = Math.max(this.#now, target);
  }
}

const macrotask = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Enough event-loop turns for in-memory Response bodies and promise chains to run out. */
async function settleTurns(): Promise<void> {
  for (let i = 0; i < 20; i++) await macrotask();
}

/**
 * Settles `promise`, letting virtual time jump to the next timer whenever nothing else can run.
 * Works with fakes that answer through promises (no real I/O): an idle turn means "waiting on time".
 */
export async function drive<T>(clock: FakeClock, promise: Promise<T>): Promise<T> {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  for (let steps = 0; steps < 100_000; steps++) {
    await settleTurns();
    if (settled) return promise;
    if (!clock.fireNext()) {
      await settleTurns();
      if (settled) return promise;
      throw new Error("drive: the promise waits on something other than the clock");
    }
  }
  throw new Error("drive: too many timer steps");
}

export interface LogLine {
  level: "debug" | "info" | "warn" | "error";
  message: string;
  fields: Record<string, unknown> | undefined;
}

/** A logger that keeps every line. */
export function recordingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: LogLine["level"]) =>
    (message: string, fields?: Record<string, unknown>): void => {
      lines.push({ level, message, fields });
    };
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** A Tencent JSON answer. */
export function tencentAnswer(body: Record<string, unknown>, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

export function ok(extra: Record<string, unknown> = {}): Response {
  return tencentAnswer({ ActionStatus: "OK", ErrorCode: 0, ErrorInfo: "", ...extra });
}

export function fail(code: number, info = "error", extra: Record<string, unknown> = {}): Response {
  return tencentAnswer({ ActionStatus: "FAIL", ErrorCode: code, ErrorInfo: info, ...extra });
}

/** What undici throws when it cannot resolve or connect: TypeError("fetch failed") with a coded cause. */
export function networkError(code: string, message = `connect ${code}`): TypeError {
  return new TypeError("fetch failed", { cause: Object.assign(new Error(message), { code }) });
}

export interface RecordedRequest {
  url: URL;
  init: RequestInit | undefined;
  body: unknown;
  /** Virtual time at which the request was sent. */
  at: number;
}

/**
 * A fetch that answers from a script: each entry answers one request (a Response, an error to throw,
 * "hang" to wait until aborted, or a function of the request). The last entry repeats.
 */
export function scriptedFetch(
  clock: Clock,
  script: ReadonlyArray<
    Response | Error | "hang" | ((request: RecordedRequest) => Response | Error | "hang")
  >,
): typeof fetch & { requests: RecordedRequest[] } {
  const requests: RecordedRequest[] = [];
  const fake = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const request: RecordedRequest = {
      url,
      init,
      body: typeof init?.body === "string" ? JSON.parse(init.body) : undefined,
      at: clock.now(),
    };
    requests.push(request);
    const step = script[Math.min(requests.length - 1, script.length - 1)];
    if (step === undefined) throw new Error("scriptedFetch: empty script");
    const outcome = typeof step === "function" ? step(request) : step;
    if (outcome === "hang") {
      return new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener("abort", () => reject(init.signal?.reason), { once: true });
      });
    }
    if (outcome instanceof Error) throw outcome;
    return outcome.clone();
  };
  return Object.assign(fake as typeof fetch, { requests });
}
