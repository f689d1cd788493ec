import { Readable } from "node:stream";
import { DownloadError, UrlNotAllowedError } from "../errors.ts";
import { type AllowList, isUrlAllowed, tryParseUrl } from "../util/allow-list.ts";
import { withoutQuery } from "./layout.ts";

export interface DownloadOptions {
  fetch: typeof fetch;
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

/**
 * Starts a download and returns its body as a stream. The stream errors with a DownloadError when the
 * server stalls for idleTimeoutMs, and the request is aborted when `signal` aborts.
 */
export async function openDownload(url: string, options: DownloadOptions): Promise<Readable> {
  assertDownloadAllowed(url, options.allowedHosts);
  const shown = withoutQuery(url);
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const stalled = () =>
    controller.abort(new DownloadError(`download of ${shown} stalled for ${options.idleTimeoutMs} ms`));
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(stalled, options.idleTimeoutMs);
  };
  const disarm = () => {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
  };

  arm();
  let response: Response;
  try {
    response = await options.fetch(url, { signal: controller.signal, redirect: "error" });
  } catch (err) {
    disarm();
    if (err instanceof DownloadError) throw err;
    if (controller.signal.reason instanceof DownloadError) throw controller.signal.reason;
    throw new DownloadError(`download of ${shown} failed: ${describe(err)}`, { cause: err });
  }
  if (!response.ok || response.body === null) {
    disarm();
    await response.body?.cancel().catch(() => {});
    const expired = response.status === 403 || response.status === 404 || response.status === 410;
    throw new DownloadError(`download of ${shown} answered HTTP ${response.status}`, {
      status: response.status,
      expired,
    });
  }

  const body = response.body;
  async function* guarded(): AsyncGenerator<Buffer> {
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        arm();
        yield Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      }
    } catch (err) {
      const reason = controller.signal.reason;
      if (reason instanceof DownloadError) throw reason;
      throw new DownloadError(`download of ${shown} broke off: ${describe(err)}`, { cause: err });
    } finally {
      disarm();
      reader.releaseLock();
      if (!controller.signal.aborted) controller.abort();
    }
  }
  return Readable.from(guarded(), { objectMode: false, highWaterMark: 1 << 20 });
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
    return `${err.message}${cause}`;
  }
  return String(err);
}
