import { execFile } from "node:child_process";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import {
  type AddressInfo,
  createServer as createTcpServer,
  type Socket,
  type Server as TcpServer,
} from "node:net";
import { inspect, promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { recordingLogger } from "../../testing/im.ts";
import { ImApiError, ImTransportError, TimeoutError } from "../errors.ts";
import { systemClock } from "../util/clock.ts";
import { ImClient, type ImClientOptions } from "./client.ts";
import {
  CONNECT_TIMEOUT_CODE,
  httpTransport,
  MAX_ANSWER_BYTES,
  type TransportRequest,
  type TransportResponse,
} from "./transport.ts";
import { genUserSig, verifyUserSig } from "./usersig.ts";

/**
 * The default transport (node:http) against loopback servers, alone and under ImClient with no fetch
 * injected. client.http.test.ts covers more of the client over it (a 502 retried, hangs retried, …).
 */

// The region "cn" points at loopback hosts filled in below: the only way to give the client two
// origins (a primary and a backup) without a baseUrl.
const cnDomains = vi.hoisted(() => [] as string[]);
vi.mock(import("./types.ts"), async (importOriginal) => {
  const actual = await importOriginal();
  return { ...actual, REGIONS: { ...actual.REGIONS, cn: cnDomains as never } };
});

const SECRET = "transport-test-secret-key-0123456789abcdef";
const APP = { sdkAppId: 1400000003, identifier: "administrator", secretKey: SECRET };

interface Seen {
  method: string | undefined;
  url: URL;
  headers: IncomingMessage["headers"];
  body: string;
  /** The client's end of the connection: the same for requests on one kept-alive connection. */
  clientPort: number | undefined;
}

type Handler = (req: IncomingMessage, res: ServerResponse, seen: Seen) => void;

const okAnswer: Handler = (_req, res) => {
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ ActionStatus: "OK", ErrorCode: 0, ErrorInfo: "", RequestId: "r-1" }));
};

let server: Server;
let baseUrl: string;
let handlers: Handler[] = [];
const seen: Seen[] = [];
/** A port nothing listens on. */
let closedPort: number;

const portOf = (s: Server | TcpServer) => (s.address() as AddressInfo).port;
const listen = async <S extends Server | TcpServer>(s: S): Promise<S> => {
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  return s;
};

beforeAll(async () => {
  server = await listen(
    createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const request: Seen = {
          method: req.method,
          url: new URL(req.url ?? "/", "http://127.0.0.1"),
          headers: req.headers,
          body: Buffer.concat(chunks).toString("utf8"),
          clientPort: req.socket.remotePort,
        };
        seen.push(request);
        (handlers.shift() ?? okAnswer)(req, res, request);
      });
    }),
  );
  baseUrl = `http://127.0.0.1:${portOf(server)}`;
  const closed = await listen(createTcpServer());
  closedPort = portOf(closed);
  await new Promise<void>((resolve) => closed.close(() => resolve()));
});

afterEach(() => {
  handlers = [];
  seen.length = 0;
  vi.restoreAllMocks();
  // Idle connections stay open: closing them here would race the client's reuse of them in the next
  // test (a "socket hang up" the client would retry, but a transport alone would not).
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** A TCP server that accepts and never says a word; it records the sockets it got. */
async function silentServer(): Promise<TcpServer & { sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const tcp = createTcpServer((socket) => {
    sockets.push(socket);
    socket.on("error", () => {});
    socket.resume(); // read, so that the client's hang-up is seen
  });
  return Object.assign(await listen(tcp), { sockets });
}

async function closeTcp(tcp: TcpServer & { sockets: Socket[] }): Promise<void> {
  for (const socket of tcp.sockets) socket.destroy();
  await new Promise<void>((resolve) => tcp.close(() => resolve()));
}

/** True when `promise` settles within `ms`, false otherwise. */
async function within(ms: number, promise: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}

const post = (body = "{}", signal = new AbortController().signal): TransportRequest => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body,
  signal,
});

async function rejection(promise: Promise<unknown>): Promise<Error & { code?: unknown }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

describe("httpTransport", () => {
  it("rejects with the error's code when nothing listens (the client fails over on such codes)", async () => {
    const error = await rejection(httpTransport(`http://127.0.0.1:${closedPort}/v4/a/b`, post()));
    expect(error.code).toBe("ECONNREFUSED");
  });

  it("gives up on a connection not made (TLS included) within connectTimeoutMs, with CONNECT_TIMEOUT_CODE", async () => {
    const silent = await silentServer();
    try {
      const started = performance.now();
      const error = await rejection(
        httpTransport(`https://127.0.0.1:${portOf(silent)}/v4/a/b`, post(), { connectTimeoutMs: 100 }),
      );
      expect(error.code).toBe(CONNECT_TIMEOUT_CODE);
      expect(performance.now() - started).toBeGreaterThanOrEqual(90);
      expect(silent.sockets).toHaveLength(1);
      expect(await within(1_000, once(silent.sockets[0]!, "close"))).toBe(true);
    } finally {
      await closeTcp(silent);
    }
  });

  it.each([
    ["declared by content-length", true],
    ["streamed without a length", false],
  ])("fails text() on an answer over the cap, %s, and reads one at the cap", async (_name, declared) => {
    const answerOf =
      (size: number): Handler =>
      (_req, res) => {
        if (declared) res.setHeader("content-length", size);
        res.on("error", () => {}); // the client hangs up mid-answer
        res.writeHead(200);
        res.write("x".repeat(size - 1)); // in two writes, so that an undeclared answer is chunked
        res.end("x");
      };
    handlers = [answerOf(1_001), answerOf(1_000)];

    const over = await httpTransport(`${baseUrl}/v4/a/b`, post(), { maxAnswerBytes: 1_000 });
    const atCap = await httpTransport(`${baseUrl}/v4/a/b`, post(), { maxAnswerBytes: 1_000 });

    expect(over.status).toBe(200);
    await expect(over.text()).rejects.toThrow("answer is larger than 1000 bytes");
    expect(await atCap.text()).toBe("x".repeat(1_000));
  });

  it("decodes the answer as UTF-8 and drops a BOM, as Response.text() does", async () => {
    handlers = [(_req, res) => res.end(Buffer.from('\uFEFF{"Info":"é 中"}', "utf8"))];
    const response = await httpTransport(`${baseUrl}/v4/a/b`, post());
    expect(await response.text()).toBe('{"Info":"é 中"}');
  });

  it("refuses a compressed answer rather than parse gzip bytes (identity was asked for)", async () => {
    handlers = [(_req, res) => res.writeHead(200, { "content-encoding": "gzip" }).end("\x1f\x8b")];
    const response = await httpTransport(`${baseUrl}/v4/a/b`, post());
    await expect(response.text()).rejects.toThrow("content-encoding gzip");
    expect(seen[0]!.headers["accept-encoding"]).toBe("identity");
  });

  it("fails text() when the connection ends before the declared length", async () => {
    handlers = [
      (req, res) => {
        res.writeHead(200, { "content-length": 100 }).write('{"ActionStatus":');
        setTimeout(() => req.socket.destroy(), 20);
      },
    ];
    const response = await httpTransport(`${baseUrl}/v4/a/b`, post());
    await expect(response.text()).rejects.toThrow();
  });

  it("discard() closes the connection of an answer that would never end", async () => {
    let socketClosed: Promise<unknown> = Promise.resolve();
    handlers = [
      (req, res) => {
        socketClosed = once(req.socket, "close");
        res.writeHead(502).write("<html>bad gateway"); // and never ends
      },
    ];
    const response: TransportResponse = await httpTransport(`${baseUrl}/v4/a/b`, post());
    expect(response.status).toBe(502);
    response.discard();
    expect(await within(1_000, socketClosed)).toBe(true);
  });
});

const client = (options: Partial<ImClientOptions> = {}) =>
  new ImClient({ ...APP, baseUrl, baseDelayMs: 1, maxDelayMs: 5, ratePerSecond: 1000, ...options });

describe("ImClient without an injected fetch (node:http)", () => {
  it("makes a call in a fresh process without loading undici (as fetch, or an ESM import of node:http, would)", async () => {
    // The server too takes node:http from getBuiltinModule: an import would load undici itself.
    const script = `
      const http = process.getBuiltinModule("node:http");
      const server = http.createServer((req, res) => {
        req.resume();
        req.on("end", () => res.end('{"ActionStatus":"OK","ErrorCode":0}'));
      });
      await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
      const { ImClient } = await import(${JSON.stringify(new URL("./client.ts", import.meta.url).href)});
      const baseUrl = "http://127.0.0.1:" + server.address().port;
      const client = new ImClient({ sdkAppId: 1400000003, identifier: "administrator", secretKey: "k".repeat(32), baseUrl });
      const answer = await client.call("a", "b", {});
      server.closeAllConnections();
      server.close();
      const undici = process.moduleLoadList.filter((name) => name.includes("undici"));
      console.log(JSON.stringify({ status: answer.ActionStatus, undici }));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], {
      timeout: 10_000,
    });
    expect(JSON.parse(stdout)).toEqual({ status: "OK", undici: [] });
  });

  it("POSTs the JSON body with a JSON content type and the signed query, not through fetch", async () => {
    const fetchSpy = vi.spyOn(globalThis, "fetch");

    const answer = await client().call("open_msg_svc", "get_history", {
      ChatType: "C2C",
      MsgTime: "2024030108",
    });

    expect(answer).toMatchObject({ ActionStatus: "OK", RequestId: "r-1" });
    expect(fetchSpy).not.toHaveBeenCalled();
    expect(seen).toHaveLength(1);
    const [request] = seen;
    expect(request!.method).toBe("POST");
    expect(request!.url.pathname).toBe("/v4/open_msg_svc/get_history");
    expect(request!.headers["content-type"]).toBe("application/json");
    expect(request!.headers["content-length"]).toBe(String(Buffer.byteLength(request!.body)));
    expect(JSON.parse(request!.body)).toEqual({ ChatType: "C2C", MsgTime: "2024030108" });
    const query = request!.url.searchParams;
    expect([...query.keys()]).toEqual(["sdkappid", "identifier", "usersig", "random", "contenttype"]);
    expect(query.get("sdkappid")).toBe(String(APP.sdkAppId));
    expect(query.get("identifier")).toBe(APP.identifier);
    expect(query.get("random")).toMatch(/^\d+$/);
    expect(query.get("contenttype")).toBe("json");
    const sig = query.get("usersig") ?? "";
    expect(() => verifyUserSig({ ...APP, sig, now: Math.floor(Date.now() / 1000) })).not.toThrow();
  });

  it("keeps the connection alive for the next call", async () => {
    const imClient = client();
    await imClient.call("a", "b", {});
    await imClient.call("a", "b", {});
    expect(seen).toHaveLength(2);
    expect(seen[1]!.clientPort).toBe(seen[0]!.clientPort);
  });

  it("retries a 200 whose body is not JSON, then throws ImTransportError saying so", async () => {
    const notJson: Handler = (_req, res) => res.writeHead(200).end("<html>maintenance</html>");
    handlers = [notJson, notJson];

    const error = await rejection(client({ maxAttempts: 2 }).call("a", "b", {}));

    expect(error).toBeInstanceOf(ImTransportError);
    expect(error.message).toContain("answered a body that is not a JSON object");
    expect(seen).toHaveLength(2);
  });

  it("reports a refused connection as ImTransportError naming ECONNREFUSED, its code kept in the cause", async () => {
    const error = await rejection(
      client({ baseUrl: `http://127.0.0.1:${closedPort}`, maxAttempts: 1 }).call("a", "b", {}),
    );

    expect(error).toBeInstanceOf(ImTransportError);
    expect(error.message).toMatch(/request failed: connect ECONNREFUSED 127\.0\.0\.1:\d+ \(attempt 1\)/);
    expect(error).toMatchObject({ retryable: true, cause: { code: "ECONNREFUSED" } });
  });

  it("moves to the backup domain when the primary refuses the connection", async () => {
    const backup = await silentServer();
    backup.on("connection", (socket) => socket.destroy()); // reached, then hung up on
    cnDomains.splice(0, cnDomains.length, `127.0.0.1:${closedPort}`, `127.0.0.1:${portOf(backup)}`);
    const logger = recordingLogger();
    try {
      const error = await rejection(
        new ImClient({ ...APP, logger, maxAttempts: 2, baseDelayMs: 1 }).call("a", "b", {}),
      );

      expect(error).toBeInstanceOf(ImTransportError);
      expect(backup.sockets).toHaveLength(1);
      expect(logger.lines).toContainEqual(
        expect.objectContaining({
          message: "im host unreachable, switching domain",
          fields: expect.objectContaining({
            host: `127.0.0.1:${closedPort}`,
            nextHost: `127.0.0.1:${portOf(backup)}`,
          }),
        }),
      );
    } finally {
      cnDomains.length = 0;
      await closeTcp(backup);
    }
  });

  it("times out an answer that never comes with TimeoutError, and the abort closes the connection", async () => {
    let socketClosed: Promise<unknown> = Promise.resolve();
    handlers = [
      (req) => {
        socketClosed = once(req.socket, "close");
      },
    ];
    const started = performance.now();

    const error = await rejection(client({ timeoutMs: 200, maxAttempts: 1 }).call("a", "b", {}));

    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.message).toContain("did not answer within 200 ms");
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(await within(1_000, socketClosed)).toBe(true);
  });

  it("fails cleanly on an answer over MAX_ANSWER_BYTES instead of buffering it", async () => {
    handlers = [
      (_req, res) => {
        res.on("error", () => {});
        res.writeHead(200, { "content-type": "application/json" });
        const piece = Buffer.alloc(1 << 20, 0x20);
        for (let i = 0; i < MAX_ANSWER_BYTES / piece.length; i++) res.write(piece);
        res.end("{}");
      },
    ];

    const error = await rejection(client({ maxAttempts: 1 }).call("a", "b", {}));

    expect(error).toBeInstanceOf(ImTransportError);
    expect(error.message).toContain(`reading HTTP 200: answer is larger than ${MAX_ANSWER_BYTES} bytes`);
  });

  it("keeps the secret key and the UserSig out of errors, even when the server echoes the URL", async () => {
    // A clock frozen at one second: every client signs with the same, known sig.
    const nowMs = Date.now();
    const clock = { now: () => nowMs, sleep: systemClock.sleep };
    const sig = genUserSig({ ...APP, expireSeconds: 86_400, issuedAt: Math.floor(nowMs / 1000) });
    const frozen = (options: Partial<ImClientOptions>) => client({ clock, maxAttempts: 1, ...options });
    const echo: Handler = (req, res, request) => {
      const info = `bad request ${req.url} sig ${request.url.searchParams.get("usersig")}`;
      res.end(JSON.stringify({ ActionStatus: "FAIL", ErrorCode: 70003, ErrorInfo: info, RequestId: info }));
    };
    handlers = [() => {}, echo];

    const errors = [
      await rejection(frozen({ baseUrl: `http://127.0.0.1:${closedPort}` }).call("a", "b", {})),
      await rejection(frozen({ timeoutMs: 100 }).call("a", "b", {})),
      await rejection(frozen({}).call("a", "b", {})),
    ];

    expect(errors.map((e) => e.constructor)).toEqual([ImTransportError, TimeoutError, ImApiError]);
    expect(seen.map((s) => s.url.searchParams.get("usersig"))).toEqual([sig, sig]);
    const text = errors.map(everyText).join("\n");
    expect(text).toContain("ECONNREFUSED");
    expect(text).toContain("usersig=[redacted]"); // the echoed URL is there, redacted
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(sig);
    expect(text).not.toContain(encodeURIComponent(sig));
    expect(text).not.toMatch(/usersig=(?!\[redacted\])/i);
  });
});

/** Every text an error can show: inspect, JSON, and each link's message, stack and own properties. */
function everyText(error: unknown): string {
  const parts = [inspect(error, { depth: 10 }), JSON.stringify(error)];
  for (let link = error, depth = 0; link !== undefined && depth < 10; depth++) {
    if (!(link instanceof Error)) {
      parts.push(String(link));
      break;
    }
    parts.push(link.message, String(link.stack), JSON.stringify(link, Object.getOwnPropertyNames(link)));
    link = link.cause;
  }
  return parts.join("\n");
}
