/** One HTTP attempt of the IM client: bounded in time, never throwing but for the caller's abort. */
import { ImTransportError, TimeoutError } from "../errors.ts";
import type { Clock } from "../util/clock.ts";
import {
  type AttemptResult,
  causeSummary,
  httpStatusFailure,
  interpretAnswer,
  isUnreachable,
} from "./classify.ts";
import { sanitizeError } from "./redact.ts";
import type { Transport } from "./transport.ts";

export interface AttemptContext {
  transport: Transport;
  /** The attempt's timeout runs on this clock. */
  clock: Clock;
  timeoutMs: number;
  /** Blanked from every error text (the secret key, recent UserSigs). */
  secrets: readonly string[];
}

export interface AttemptRequest {
  /** "service/command", for messages. */
  name: string;
  /** The whole signed URL. */
  url: string;
  payload: string;
  /** The request's number within its call, for messages. */
  attempt: number;
  extraRetryable: ReadonlySet<number>;
  signal: AbortSignal | undefined;
}

/** Sends one request, bounded by timeoutMs on the context's clock. Rejects only when `signal` aborts. */
export async function sendAttempt(context: AttemptContext, request: AttemptRequest): Promise<AttemptResult> {
  const { name, attempt, signal } = request;
  const attemptAbort = new AbortController();
  const timerAbort = new AbortController();
  let timedOut = false;
  context.clock.sleep(context.timeoutMs, timerAbort.signal).then(
    () => {
      timedOut = true;
      attemptAbort.abort();
    },
    () => {}, // cancelled: the attempt finished first
  );
  const requestSignal =
    signal === undefined ? attemptAbort.signal : AbortSignal.any([signal, attemptAbort.signal]);
  let status: number | undefined;
  try {
    const response = await untilAborted(
      context.transport(request.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: request.payload,
        signal: requestSignal,
      }),
      requestSignal,
    );
    status = response.status;
    if (status !== 200) {
      response.discard();
      return httpStatusFailure(name, status, attempt);
    }
    const text = await untilAborted(response.text(), requestSignal);
    return interpretAnswer(name, text, request.extraRetryable, context.secrets);
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (timedOut) {
      const { timeoutMs } = context;
      return {
        ok: false,
        failure: {
          error: new TimeoutError(
            `Tencent IM ${name} did not answer within ${timeoutMs} ms (attempt ${attempt})`,
            { command: name, timeoutMs, attempt },
          ),
        },
      };
    }
    const cause = sanitizeError(error, context.secrets);
    const detail = causeSummary(cause);
    const reading = status === undefined ? "" : ` reading HTTP ${status}`;
    return {
      ok: false,
      failure: {
        error: new ImTransportError(
          `Tencent IM ${name} request failed${reading}: ${detail} (attempt ${attempt})`,
          { cause, ...(status === undefined ? {} : { status }) },
        ),
        unreachable: isUnreachable(error),
      },
    };
  } finally {
    timerAbort.abort();
  }
}

/** Settles like `promise`, or rejects as soon as `signal` aborts (a transport that ignores its signal cannot hang us). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
