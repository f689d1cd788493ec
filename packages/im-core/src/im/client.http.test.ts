import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ImTransportError, TimeoutError } from "../errors.ts";
import { ImClient } from "./client.ts";
import { verifyUserSig } from "./usersig.ts";

/** Real HTTP over loopback: a minimal Tencent stand-in whose next answers each test scripts. */
const SECRET = "real-http-secret-key-0123456789abcdef";
const APP = { sdkAppId: 1400000002, identifier: "administrator", secretKey: SECRET };

type Behaviour = "good" | "502" | "hang";

interface Seen {
  path: string;
  query: URLSearchParams;
  body: unknown;
  sigValid: boolean;
}

let server: Server;
let baseUrl: string;
let script: Behaviour[] = [];
const seen: Seen[] = [];
const hanging = new Set<ServerResponse>();

function answer(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": status === 200 ? "application/json" : "text/html" }).end(body);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  let sigValid = true;
  try {
    verifyUserSig({ ...APP, sig: url.searchParams.get("usersig") ?? "", now: Math.floor(Date.now() / 1000) });
  } catch {
    sigValid = false;
  }
  seen.push({
    path: url.pathname,
    query: url.searchParams,
    body: JSON.parse(Buffer.concat(chunks).toString("utf8")),
    sigValid,
  });
  const behaviour = script.shift() ?? "good";
  if (behaviour === "hang") {
    hanging.add(res);
    res.on("close", () => hanging.delete(res));
    return;
  }
  if (behaviour === "502") return answer(res, 502, "<html><body>502 Bad Gateway</body></html>");
  answer(
    res,
    200,
    JSON.stringify({
      ActionStatus: "OK",
      ErrorCode: 0,
      ErrorInfo: "",
      RequestId: "r-1",
      Echo: seen.at(-1)?.body,
    }),
  );
}

beforeAll(async () => {
  server = createServer((req, res) => {
    handle(req, res).catch(() => answer(res, 500, "handler failed"));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const res of hanging) res.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  script = [];
  seen.length = 0;
});

const client = (options: Partial<ConstructorParameters<typeof ImClient>[0]> = {}) =>
  new ImClient({ ...APP, baseUrl, baseDelayMs: 1, maxDelayMs: 5, ratePerSecond: 1000, ...options });

describe("ImClient over real HTTP", () => {
  it("gets a good answer with a UserSig the server can verify", async () => {
    script = ["good"];
    const body = await client().call<{ Echo: unknown; RequestId: string }>("open_msg_svc", "get_history", {
      ChatType: "Group",
      MsgTime: "2015120121",
    });
    expect(body).toMatchObject({ RequestId: "r-1", Echo: { ChatType: "Group", MsgTime: "2015120121" } });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ path: "/v4/open_msg_svc/get_history", sigValid: true });
    expect(seen[0]!.query.get("contenttype")).toBe("json");
  });

  it("retries a 502 and returns the good answer that follows", async () => {
    script = ["502", "502", "good"];
    const body = await client({ maxAttempts: 3 }).call<{ RequestId: string }>("im_cos_msg", "get_cos_sig", {
      RawURLs: [],
    });
    expect(body.RequestId).toBe("r-1");
    expect(seen).toHaveLength(3);
  });

  it("gives up on 502s after maxAttempts with the status", async () => {
    script = ["502", "502"];
    const error = await client({ maxAttempts: 2 })
      .call("a", "b", {})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImTransportError);
    expect(error).toMatchObject({ status: 502, retryable: true });
    expect(seen).toHaveLength(2);
  });

  it("times out a request the server never answers and retries it", async () => {
    script = ["hang", "good"];
    const body = await client({ timeoutMs: 200 }).call<{ RequestId: string }>("a", "b", {});
    expect(body.RequestId).toBe("r-1");
    expect(seen).toHaveLength(2);
    expect(new Set(seen.map((s) => s.query.get("random"))).size).toBe(2);
  });

  it("throws TimeoutError when every attempt hangs", async () => {
    script = ["hang", "hang"];
    const error = await client({ timeoutMs: 150, maxAttempts: 2 })
      .call("a", "b", {})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(seen).toHaveLength(2);
  });

  it("reports a refused connection as ImTransportError naming ECONNREFUSED, without the UserSig", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const error = await client({ baseUrl: `http://127.0.0.1:${port}`, maxAttempts: 2 })
      .call("a", "b", {})
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ImTransportError);
    const text = inspect(error, { depth: 10 });
    expect(text).toContain("ECONNREFUSED");
    expect(text).not.toContain(SECRET);
    expect(text).not.toMatch(/usersig=(?!\[redacted\])/i);
  });
});
