import type { IncomingMessage } from "node:http";
import { requestFor } from "../util/http-request.ts";

/** One request of the IM client: a JSON POST, cancelled by `signal`. */
export interface TransportRequest {
  method: "POST";
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
}

/** An answer whose headers have arrived; its body is read with `text()` or let go with `discard()`. */
export interface TransportResponse {
  status: number;
  text(): Promise<string>;
  /** Gives up the body without reading it (never throws, never waits). */
  discard(): void;
}

/**
 * How the IM client sends one attempt. Failures reject with the underlying error, whose `code`
 * (ECONNREFUSED, ENOTFOUND, …) stays on it or its cause chain: the client fails over on those.
 * Errors may carry the URL, usersig included: the caller redacts them.
 */
export type Transport = (url: string, init: TransportRequest) => Promise<TransportResponse>;

/** Tencent's answers are small JSON; anything this large is not one and is not buffered further. */
export const MAX_ANSWER_BYTES = 8 * 1024 * 1024;

/**
 * The code of a connection not made (TCP and TLS) within connectTimeoutMs. The client counts it as an
 * unreachable host, worth the backup domain, as it did undici's UND_ERR_CONNECT_TIMEOUT: a host that
 * drops packets would otherwise use up the whole per-attempt timeout, every attempt, on one domain.
 */
export const CONNECT_TIMEOUT_CODE = "ERR_IM_CONNECT_TIMEOUT";

export interface HttpTransportOptions {
  /** Default MAX_ANSWER_BYTES. */
  maxAnswerBytes?: number;
  /** Default 10_000, as undici's. */
  connectTimeoutMs?: number;
}

/** A transport over an injected fetch (tests inject fakes that answer Responses). */
export function fetchTransport(fetchImpl: typeof fetch): Transport {
  return async (url, init) => {
    const response = await fetchImpl(url, init);
    return {
      status: response.status,
      text: () => response.text(),
      // Not awaited: a cancel may wait on a reader that never comes.
      discard: () => {
        response.body?.cancel().catch(() => {});
      },
    };
  };
}

/**
 * The default transport: node:http(s) on the global agents (keep-alive, so later calls reuse the TLS
 * connection). Not fetch: a process's first fetch loads undici and its wasm parser, which makes the
 * first call several times slower than over node:http (bench/README.md, "IM client"), a cost every
 * CLI run and Lambda cold start would pay. Redirects are not followed (a 3xx is the status).
 *
 * The module comes from requestFor (util/http-request.ts), not an `import`, which would load undici
 * after all.
 */
export function httpTransport(
  url: string,
  init: TransportRequest,
  options: HttpTransportOptions = {},
): Promise<TransportResponse> {
  const { maxAnswerBytes = MAX_ANSWER_BYTES, connectTimeoutMs = 10_000 } = options;
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const request = requestFor(target);
    const payload = Buffer.from(init.body, "utf8");
    // The signal destroys the request, and with it the socket, when the attempt is aborted or times out.
    const req = request(target, {
      method: init.method,
      headers: {
        ...init.headers,
        "content-length": String(payload.length),
        "accept-encoding": "identity",
      },
      signal: init.signal,
    });
    // `on`, not `once`: a second error event without a listener would crash the process.
    req.on("error", reject);
    req.once("socket", (socket) => {
      if (!socket.connecting) return; // a kept-alive connection, already made
      const timer = setTimeout(() => {
        const error = new Error(`connect to ${target.host} timed out after ${connectTimeoutMs} ms`);
        req.destroy(Object.assign(error, { code: CONNECT_TIMEOUT_CODE }));
      }, connectTimeoutMs);
      const done = () => clearTimeout(timer);
      socket.once(target.protocol === "https:" ? "secureConnect" : "connect", done);
      socket.once("close", done);
    });
    req.once("response", (res) => {
      // Read at once, so that an early end of the connection is seen even before text() is called.
      const body = readAnswer(res, maxAnswerBytes);
      body.catch(() => {}); // a body nobody asks for (discarded) may fail unobserved
      resolve({ status: res.statusCode ?? 0, text: () => body, discard: () => res.destroy() });
    });
    req.end(payload);
  });
}

function readAnswer(res: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const encoding = res.headers["content-encoding"];
    if (encoding !== undefined && encoding.toLowerCase() !== "identity") {
      res.destroy();
      reject(new Error(`answer has content-encoding ${encoding}, though identity was asked for`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    res.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        res.destroy();
        reject(new Error(`answer is larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    // TextDecoder drops a BOM and replaces bad bytes, as Response.text() does.
    res.once("end", () => resolve(new TextDecoder().decode(Buffer.concat(chunks, size))));
    // A connection cut mid-answer destroys the response with an error ("aborted", ECONNRESET): with a
    // listener, Node emits it.
    res.on("error", reject);
  });
}
