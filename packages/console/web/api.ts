/**
 * The console's one way to the API: the `/v1/…` routes with `Authorization: Bearer <key>`. A 429 is
 * waited out (its Retry-After) and retried a few times; a 401 signs the tab out; a 404 that means
 * "this deployment has no such route" (API Gateway's own, or the API's `no route`) becomes
 * NotAvailableError, so each screen can say the feature is not there yet.
 */

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;
  constructor(status: number, code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** The route does not exist on this deployment (yet). */
export class NotAvailableError extends Error {}

export interface ApiHooks {
  /** The key was refused (401): back to sign-in with this message. */
  onUnauthorized(message: string): void;
  /** A 429 is being waited out; seconds 0 when the wait is over. */
  onWait(seconds: number): void;
}

/** 429s waited out before the error is shown. */
const MAX_RETRIES = 3;
const MAX_WAIT_SECONDS = 60;

/** The words for a status when the answer carries none of its own. */
export function statusText(status: number): string {
  switch (status) {
    case 400:
      return "The API refused the request as malformed.";
    case 401:
      return "The API key was refused.";
    case 403:
      return "This key may not do that.";
    case 404:
      return "Not found.";
    case 409:
      return "The stored state cannot be served as asked.";
    case 413:
      return "The request is too large.";
    case 429:
      return "Too many requests: wait a moment and try again.";
    case 502:
      return "Tencent IM answered with an error.";
    case 503:
      return "The API is starting up or unavailable: try again in a moment.";
    case 504:
      return "Tencent IM did not answer in time.";
    default:
      return status >= 500 ? `The API failed (HTTP ${status}).` : `The API answered HTTP ${status}.`;
  }
}

/** Retry-After as seconds (a number or an HTTP date), else undefined. */
export function retryAfterSeconds(header: string | null, nowMs = Date.now()): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - nowMs) / 1000));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

export interface Api {
  get<T>(path: string, signal?: AbortSignal): Promise<T>;
  post<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T>;
}

export function createApi(key: string, hooks: ApiHooks): Api {
  async function request<T>(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(path, {
          method,
          headers: {
            authorization: `Bearer ${key}`,
            accept: "application/json",
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          cache: "no-store",
          credentials: "omit",
          ...(signal === undefined ? {} : { signal }),
        });
      } catch (error) {
        if (signal?.aborted) throw error;
        throw new ApiError(0, "network", "The API could not be reached: check the connection and try again.");
      }
      if (response.status === 429 && attempt < MAX_RETRIES) {
        const seconds = Math.min(
          MAX_WAIT_SECONDS,
          retryAfterSeconds(response.headers.get("retry-after")) ?? 2 ** (attempt + 1),
        );
        hooks.onWait(seconds);
        try {
          await sleep(seconds * 1000, signal);
        } finally {
          hooks.onWait(0);
        }
        continue;
      }
      const text = await response.text();
      let json: unknown;
      try {
        json = text === "" ? undefined : JSON.parse(text);
      } catch {
        json = undefined;
      }
      if (response.ok) return json as T;
      const error = (json as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)
        ?.error;
      const code = typeof error?.code === "string" ? error.code : `http_${response.status}`;
      const message = typeof error?.message === "string" ? error.message : statusText(response.status);
      const details =
        typeof error?.details === "object" && error.details !== null
          ? (error.details as Record<string, unknown>)
          : undefined;
      if (response.status === 401) {
        hooks.onUnauthorized(message);
      }
      // No route: API Gateway answers {"message":"Not Found"}; the API, `no route …` with the method.
      if (
        response.status === 404 &&
        (error === undefined || (details?.method !== undefined && /^no route/.test(message)))
      ) {
        throw new NotAvailableError(
          `${method} ${path.split("?")[0]} is not available on this deployment yet.`,
        );
      }
      throw new ApiError(response.status, code, message, details);
    }
  }
  return {
    get: (path, signal) => request("GET", path, undefined, signal),
    post: (path, body, signal) => request("POST", path, body, signal),
  };
}
