import { Readable } from "node:stream";
import { assertDownloadAllowed } from "../archive/download.ts";
import { withoutQuery } from "../archive/layout.ts";
import { DownloadError } from "../errors.ts";
import type { AllowList } from "../util/allow-list.ts";
import {
  BODY_HIGH_WATER_MARK,
  bodyBytes,
  bodyStream,
  openHttpResponse,
  statusError,
  type Watch,
} from "../util/watched-download.ts";

export interface MediaDownloadOptions {
  /** A fetch to download with instead of node:http(s) (tests inject fakes). */
  fetch?: typeof fetch | undefined;
  /** Hosts a PreSigURL may point at; checked before any byte is fetched. */
  allowedHosts: AllowList;
  /** Abort when no byte arrives for this long. */
  idleTimeoutMs: number;
  /** A body whose Content-Length is at most this is answered whole, as one Buffer (0: always a stream). */
  wholeUpTo?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** An answered download: its body (a stream, or whole when small) and what the headers said about it. */
export interface MediaResponse {
  /** A stream, or the whole body when its Content-Length was at most `wholeUpTo`. */
  body: Readable | Buffer;
  /** Content-Length, when the server sent one (the body is checked against it). */
  contentLength: number | undefined;
  contentType: string | undefined;
}

/**
 * Starts a media download from a PreSigURL. Refuses a host that is not allowed (UrlNotAllowedError)
 * before anything is fetched; any HTTP status but 2xx is a DownloadError, `expired` for 403/404/410
 * (ask get_cos_sig again). The body stream errors with a DownloadError when the server stalls for
 * idleTimeoutMs or the connection breaks off; the caller's abort cancels the request. Errors name the
 * URL without its query: a PreSigURL's query is its signature.
 */
export async function openMediaDownload(url: string, options: MediaDownloadOptions): Promise<MediaResponse> {
  const parsed = assertDownloadAllowed(url, options.allowedHosts);
  const w = watch(withoutQuery(url), options);
  w.arm();
  const wholeUpTo = options.wholeUpTo ?? 0;
  return options.fetch === undefined
    ? withHttp(parsed, w, wholeUpTo)
    : withFetch(url, options.fetch, w, wholeUpTo);
}

function watch(shown: string, options: MediaDownloadOptions): Watch {
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener("abort", onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const stalled = () =>
    controller.abort(new DownloadError(`download of ${shown} stalled for ${options.idleTimeoutMs} ms`));
  return {
    shown,
    controller,
    arm() {
      if (timer === undefined) timer = setTimeout(stalled, options.idleTimeoutMs);
      else timer.refresh();
    },
    disarm() {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
    },
    failed(stage, err) {
      // The caller's abort is passed on as it is; a stall wins over the symptom it caused.
      if (options.signal?.aborted && controller.signal.reason === options.signal.reason) {
        return options.signal.reason instanceof Error
          ? options.signal.reason
          : new Error(String(options.signal.reason));
      }
      if (err instanceof DownloadError) return err;
      const reason = controller.signal.reason;
      if (reason instanceof DownloadError) return reason;
      const why = err instanceof Error ? err.message : String(err);
      return new DownloadError(`download of ${shown} ${stage}: ${why}`, { cause: err });
    },
  };
}

function lengthOf(header: string | null | undefined): number | undefined {
  if (header === null || header === undefined || !/^\d{1,15}$/.test(header.trim())) return undefined;
  return Number(header.trim());
}

async function withHttp(url: URL, w: Watch, wholeUpTo: number): Promise<MediaResponse> {
  const res = await openHttpResponse(url, w);
  const contentLength = lengthOf(res.headers["content-length"]);
  const whole = contentLength !== undefined && contentLength <= wholeUpTo;
  return {
    body: whole ? await bodyBytes(res, w) : bodyStream(res, w),
    contentLength,
    contentType: res.headers["content-type"],
  };
}

async function withFetch(
  url: string,
  fetchImpl: typeof fetch,
  w: Watch,
  wholeUpTo: number,
): Promise<MediaResponse> {
  let res: Response;
  try {
    res = await fetchImpl(url, {
      signal: w.controller.signal,
      redirect: "error",
      headers: { "accept-encoding": "identity" },
    });
  } catch (err) {
    w.disarm();
    throw w.failed("failed", err);
  }
  if (!res.ok || res.body === null) {
    w.disarm();
    await res.body?.cancel().catch(() => {});
    throw statusError(w.shown, res.status);
  }
  const stream = res.body;
  const { controller } = w;
  async function* guarded(): AsyncGenerator<Buffer> {
    const reader = stream.getReader();
    // A stall or the caller's abort ends a pending read even if the body ignores the fetch's signal.
    const onAbort = () => {
      reader.cancel(controller.signal.reason).catch(() => {});
    };
    controller.signal.addEventListener("abort", onAbort, { once: true });
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (controller.signal.aborted) throw controller.signal.reason;
        if (done) return;
        w.arm();
        yield Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      }
    } catch (err) {
      throw w.failed("broke off", err);
    } finally {
      controller.signal.removeEventListener("abort", onAbort);
      w.disarm();
      reader.releaseLock();
      if (!controller.signal.aborted) controller.abort();
    }
  }
  const contentLength = lengthOf(res.headers.get("content-length"));
  let body: Readable | Buffer;
  if (contentLength !== undefined && contentLength <= wholeUpTo) {
    const chunks: Buffer[] = [];
    for await (const chunk of guarded()) chunks.push(chunk);
    body = Buffer.concat(chunks);
  } else {
    body = Readable.from(guarded(), { objectMode: false, highWaterMark: BODY_HIGH_WATER_MARK });
  }
  return { body, contentLength, contentType: res.headers.get("content-type") ?? undefined };
}
