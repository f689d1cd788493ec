import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DownloadError, UrlNotAllowedError } from "../errors.ts";
import { openDownload } from "./download.ts";

/** A server on 127.0.0.1 whose answer per path is a handler; it counts the requests it saw. */
const routes = new Map<string, (res: ServerResponse) => void>();
const seen: string[] = [];
let server: Server;
let origin: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    seen.push(path);
    const handler = routes.get(path);
    if (handler === undefined) {
      res.writeHead(404).end();
      return;
    }
    handler(res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const body = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 251));
routes.set("/ok.gz", (res) => {
  res.writeHead(200, { "content-length": body.length });
  res.end(body);
});
routes.set("/gone.gz", (res) => res.writeHead(403).end());
routes.set("/busy.gz", (res) => res.writeHead(503).end());
routes.set("/cut.gz", (res) => {
  res.writeHead(200, { "content-length": body.length });
  res.write(body.subarray(0, 1000), () => res.socket?.destroy());
});
routes.set("/stall.gz", (res) => {
  res.writeHead(200, { "content-length": body.length });
  res.write(body.subarray(0, 1000));
});

const options = (extra: { signal?: AbortSignal; idleTimeoutMs?: number } = {}) => ({
  allowedHosts: [origin],
  idleTimeoutMs: extra.idleTimeoutMs ?? 10_000,
  signal: extra.signal,
});

async function read(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected a failure");
}

describe("openDownload over node:http (no fetch given)", () => {
  it("streams the body byte for byte", async () => {
    const plain = await read(await openDownload(`${origin}/ok.gz?sign=abc`, options()));

    expect(plain.equals(body)).toBe(true);
  });

  it("refuses a host off the allow-list before sending any request", async () => {
    const before = seen.length;
    const err = await failure(openDownload(`${origin.replace("127.0.0.1", "localhost")}/ok.gz`, options()));

    expect(err).toBeInstanceOf(UrlNotAllowedError);
    expect(seen.length).toBe(before);
  });

  it("answers 403/404 as an expired DownloadError and 503 as a plain one, without the query string", async () => {
    const gone = await failure(openDownload(`${origin}/gone.gz?sign=secret-sig`, options()));
    const missing = await failure(openDownload(`${origin}/nothing.gz?sign=secret-sig`, options()));
    const busy = await failure(openDownload(`${origin}/busy.gz?sign=secret-sig`, options()));

    expect(gone).toMatchObject({ status: 403, expired: true });
    expect(missing).toMatchObject({ status: 404, expired: true });
    expect(busy).toMatchObject({ status: 503, expired: false });
    for (const err of [gone, missing, busy]) {
      expect(err).toBeInstanceOf(DownloadError);
      expect((err as Error).message).not.toContain("secret-sig");
    }
  });

  it("errors the body with a DownloadError when the connection is cut before the advertised length", async () => {
    const stream = await openDownload(`${origin}/cut.gz?sign=secret-sig`, options());
    const err = await failure(read(stream));

    expect(err).toBeInstanceOf(DownloadError);
    expect((err as Error).message).toMatch(/broke off/);
    expect((err as Error).message).not.toContain("secret-sig");
  });

  it("errors the body with a 'stalled' DownloadError when no byte arrives for idleTimeoutMs", async () => {
    const stream = await openDownload(`${origin}/stall.gz`, options({ idleTimeoutMs: 100 }));
    const err = await failure(read(stream));

    expect(err).toBeInstanceOf(DownloadError);
    expect((err as Error).message).toMatch(/stalled for 100 ms/);
  });

  it("stops the download when the caller's signal aborts", async () => {
    const abort = new AbortController();
    const stream = await openDownload(`${origin}/stall.gz`, options({ signal: abort.signal }));
    const reading = failure(read(stream));
    abort.abort(new Error("job cancelled"));
    const err = await reading;

    expect(err).toBeInstanceOf(DownloadError);
    expect(stream.destroyed).toBe(true);
  });
});

describe("openDownload with an injected fetch", () => {
  it("downloads through the given fetch, not over the network", async () => {
    const calls: string[] = [];
    const fake = (async (url: string) => {
      calls.push(url);
      return new Response(new Uint8Array([1, 2, 3]));
    }) as typeof fetch;

    const got = await read(await openDownload(`${origin}/ok.gz`, { ...options(), fetch: fake }));

    expect([...got]).toEqual([1, 2, 3]);
    expect(calls).toEqual([`${origin}/ok.gz`]);
  });
});
