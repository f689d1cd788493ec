import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import { DownloadError, UrlNotAllowedError } from "../errors.ts";
import { type AllowList, isUrlAllowed, tryParseUrl } from "../util/allow-list.ts";
import { requestFor } from "../util/http-request.ts";
import { withoutQuery } from "./layout.ts";

/** Buffered body bytes before the socket is paused (the verifier reads in pieces of this order). */
const BODY_HIGH_WATER_MARK = 1 << 20;

export interface DownloadOptions {
  /**
   * A fetch to download with instead of node:http(s) (tests inject fakes). Without one, node:http(s)
   * is used directly: it costs measurably less CPU per byte than fetch's web streams, and the
   * download shares the core with the verifier's hashing.
   */
  fetch?: typeof fetch | undefined;
  /** Hosts history files may come from; checked before any byte is fetched. */
  allowedHosts: AllowList;
  /** Abort when no byte arrives for this long (a stalled download). */
  idleTimeoutMs: number;
  signal?: AbortSignal | undefined;
}

/** Refuses a download URL that is not on the allow-list, before anything is fetched. */
export function assertDownloadAllowed(url: string, allowedHosts: AllowList): URL {
  const parsed = tryParseUrl(url);
  if (parsed === undefined || !isUrlAllowed(parsed, allowedHosts)) {
    // Only origin and path: the query may carry a signature.
    const shown = parsed === undefined ? "(not a URL)" : withoutQuery(url);
    throw new UrlNotAllowedError(`download URL ${shown} is not on the allowed hosts`, { url: shown });
  }
  return parsed;
}

/** The abort, idle-timeout and error plumbing one download shares between both transports. */
interface Watch {
  shown: string;
  controller: AbortController;
  /** (Re)starts the idle timer: call on every byte received. */
  arm(): void;
  /** Stops the timer and lets go of the caller's signal. */
  disarm(): void;
  /** A failure as the DownloadError to throw: the stall (or the caller's abort) wins over the symptom. */
  failed(stage: "failed" | "broke off", err: unknown): Error;
}

function watch(url: string, options: DownloadOptions): Watch {
  const shown = withoutQuery(url);
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const stalled = () =>
    controller.abort(new DownloadError(`download of ${shown} stalled for ${options.idleTimeoutMs} ms`));
  let timer: NodeJS.Timeout | undefined;
  return {
    shown,
    controller,
    arm() {
      // refresh() re-arms without a new timer object: this runs once per network chunk.
      if (timer === undefined) timer = setTimeout(stalled, options.idleTimeoutMs);
      else timer.refresh();
    },
    disarm() {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
    },
    failed(stage, err) {
      if (err instanceof DownloadError) return err;
      const reason = controller.signal.reason;
      if (reason instanceof DownloadError) return reason;
      return new DownloadError(`download of ${shown} ${stage}: ${describe(err)}`, { cause: err });
    },
  };
}

function statusError(shown: string, status: number): DownloadError {
  const expired = status === 403 || status === 404 || status === 410;
  return new DownloadError(`download of ${shown} answered HTTP ${status}`, { status, expired });
}

/**
 * Starts a download and returns its body as a stream. The stream errors with a DownloadError when the
 * server stalls for idleTimeoutMs, and the request is aborted when `signal` aborts.
 */
export async function openDownload(url: string, options: DownloadOptions): Promise<Readable> {
  const parsed = assertDownloadAllowed(url, options.allowedHosts);
  const w = watch(url, options);
  w.arm();
  return options.fetch === undefined ? openWithHttp(parsed, w) : openWithFetch(url, options.fetch, w);
}

async function openWithHttp(url: URL, w: Watch): Promise<Readable> {
  let response: IncomingMessage;
  try {
    const request = requestFor(url);
    response = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(url, { signal: w.controller.signal, headers: { "accept-encoding": "identity" } });
      req.once("response", resolve);
      req.once("error", reject);
      req.end();
    });
  } catch (err) {
    w.disarm();
    throw w.failed("failed", err);
  }
  const status = response.statusCode ?? 0;
  if (status < 200 || status > 299) {
    w.disarm();
    response.destroy();
    throw statusError(w.shown, status);
  }

  // The socket's chunks handed on as they come, paused while the consumer is behind.
  const res = response;
  const body = new Readable({
    highWaterMark: BODY_HIGH_WATER_MARK,
    read() {
      res.resume();
    },
    destroy(err, callback) {
      w.disarm();
      res.destroy();
      callback(err);
    },
  });
  res.on("data", (chunk: Buffer) => {
    w.arm();
    if (!body.push(chunk)) res.pause();
  });
  res.once("end", () => {
    w.disarm();
    body.push(null);
  });
  res.once("error", (err) => body.destroy(w.failed("broke off", err)));
  // A connection cut before the advertised length ends the response without "end" (or "error").
  res.once("close", () => {
    if (!res.complete) body.destroy(w.failed("broke off", new Error("connection closed early")));
  });
  return body;
}

async function openWithFetch(url: string, fetchImpl: typeof fetch, w: Watch): Promise<Readable> {
  const { controller } = w;
  let response: Response;
  try {
    response = await fetchImpl(url, { signal: controller.signal, redirect: "error" });
  } catch (err) {
    w.disarm();
    throw w.failed("failed", err);
  }
  if (!response.ok || response.body === null) {
    w.disarm();
    await response.body?.cancel().catch(() => {});
    throw statusError(w.shown, response.status);
  }

  const body = response.body;
  async function* guarded(): AsyncGenerator<Buffer> {
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        w.arm();
        yield Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      }
    } catch (err) {
      throw w.failed("broke off", err);
    } finally {
      w.disarm();
      reader.releaseLock();
      if (!controller.signal.aborted) controller.abort();
    }
  }
  return Readable.from(guarded(), { objectMode: false, highWaterMark: BODY_HIGH_WATER_MARK });
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
    return `${err.message}${cause}`;
  }
  return String(err);
}
