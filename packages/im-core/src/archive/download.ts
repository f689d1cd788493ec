import { Readable } from "node:stream";
import { DownloadError, UrlNotAllowedError } from "../errors.ts";
import { type AllowList, isUrlAllowed, tryParseUrl } from "../util/allow-list.ts";
import { BODY_HIGH_WATER_MARK, openHttpBody, statusError, type Watch } from "../util/watched-download.ts";
import { withoutQuery } from "./layout.ts";

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
  return (await openHttpBody(url, w)).body;
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
