import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalStore, createLocalUrlSigner, type LocalUrlSigner } from "@imvault/im-core";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { filesRoute } from "./files-route.ts";
import { type DevHttpServer, startDevHttpServer } from "./http-server.ts";

const KEY = "raw/chat_type=C2C/dt=2024-05-01/hour=01/a.gz";
const BYTES = Buffer.from("gzip bytes, as Tencent served them");

describe("the dev HTTP server", () => {
  let dir: string;
  let server: DevHttpServer;
  let signer: LocalUrlSigner;
  let now = 1_700_000_000_000;
  const events: APIGatewayProxyEventV2[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "imvault-http-"));
    const store = createLocalStore({ root: dir });
    await store.put(KEY, BYTES);
    let route: ReturnType<typeof filesRoute> | undefined;
    server = await startDevHttpServer({
      host: "127.0.0.1",
      port: 0,
      api: async (event) => {
        events.push(event);
        return { statusCode: 201, headers: { "x-seen": event.rawPath }, body: event.body ?? "" };
      },
      files: (req, res) => route!(req, res),
    });
    signer = createLocalUrlSigner({
      baseUrl: server.url,
      secret: "a-secret-of-32-bytes-for-testing",
      now: () => now,
    });
    route = filesRoute(signer, store);
  });

  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("hands other requests to the API handler as API Gateway events and writes its answer back", async () => {
    const response = await fetch(`${server.url}/v1/cos-sig?a=1`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer k" },
      body: '{"RawURLs":[]}',
    });

    expect(response.status).toBe(201);
    expect(response.headers.get("x-seen")).toBe("/v1/cos-sig");
    expect(await response.text()).toBe('{"RawURLs":[]}');
    expect(events.at(-1)).toMatchObject({
      rawQueryString: "a=1",
      headers: { authorization: "Bearer k" },
      requestContext: { http: { method: "POST", sourceIp: "127.0.0.1" } },
    });
  });

  it("serves a file by its signed URL, byte for byte", async () => {
    const response = await fetch(signer.urlFor(KEY, 60));

    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(BYTES);
  });

  it("answers 403 for a tampered or expired URL and never reaches the API handler", async () => {
    const url = signer.urlFor(KEY, 60);
    const before = events.length;

    const tampered = await fetch(url.replace("a.gz", "b.gz"));
    now += 61_000;
    const expired = await fetch(url);

    expect(tampered.status).toBe(403);
    expect(expired.status).toBe(403);
    expect(((await expired.json()) as { error: { message: string } }).error.message).toMatch(/expired/);
    expect(events.length).toBe(before);
  });

  it("refuses a signed key that would leave the data directory or read its private state", async () => {
    const reserved = signer.urlFor(".imvault/api-key", 60);
    const signed = new URL(signer.urlFor("../../etc/passwd", 60));
    // Sent as is: fetch would normalise the dot segments away before they reach the server.
    const dotted = await rawGet(server.port, `/files/../../etc/passwd${signed.search}`);

    expect((await fetch(reserved)).status).toBe(403);
    expect(dotted).toBe(403);
  });

  it.each([
    ["a path", `GET /v1/${"a".repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`],
    ["a header", `GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: ${"b".repeat(20_000)}\r\n\r\n`],
  ])(
    "answers %s over Node's limit with 431 in the API's error shape, never reaching the API",
    async (_what, raw) => {
      const before = events.length;

      const { head, body } = await rawExchange(server.port, raw);

      expect(head).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
      expect(head).toMatch(/content-type: application\/json/i);
      expect(JSON.parse(body)).toEqual({
        error: { code: "headers_too_large", message: expect.stringMatching(/exceed \d+ bytes/) },
      });
      expect(events.length).toBe(before);
    },
  );

  it("answers malformed HTTP with 400 in the API's error shape", async () => {
    const { head, body } = await rawExchange(server.port, "NOT HTTP AT ALL\r\n\r\n");

    expect(head).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(body).error.code).toBe("invalid_request");
  });

  it("hands the API every value of a repeated Authorization header, joined by a comma as API Gateway does", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port: server.port,
          path: "/v1/status",
          headers: ["host", "127.0.0.1", "authorization", "Bearer first", "authorization", "Bearer second"],
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end();
    });

    expect(status).toBe(201);
    expect(events.at(-1)?.headers.authorization).toBe("Bearer first,Bearer second");
  });
});

/** Sends `raw` bytes as they are and reads the answer until the server closes the connection. */
function rawExchange(port: number, raw: string): Promise<{ head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.end(raw));
    let text = "";
    socket.setEncoding("utf8");
    socket.setTimeout(5_000, () => socket.destroy(new Error("no answer within 5 s")));
    socket.on("data", (chunk: string) => {
      text += chunk;
    });
    socket.on("error", reject);
    socket.on("close", () => {
      const at = text.indexOf("\r\n\r\n");
      resolve({ head: text.slice(0, at), body: text.slice(at + 4) });
    });
  });
}

function rawGet(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method: "GET" }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the dev HTTP server's port", () => {
  it("names PORT when the port is taken", async () => {
    const first = await startDevHttpServer({
      host: "127.0.0.1",
      port: 0,
      api: async () => ({ statusCode: 204 }),
    });
    try {
      await expect(
        startDevHttpServer({ host: "127.0.0.1", port: first.port, api: async () => ({ statusCode: 204 }) }),
      ).rejects.toThrow(/PORT .*already in use/);
    } finally {
      await first.close();
    }
  });
});
