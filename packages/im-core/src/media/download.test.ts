import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DownloadError } from "../errors.ts";
import { openMediaDownload } from "./download.ts";

/** A server on 127.0.0.1: /whole/{n} answers n bytes, /cut/{n} promises n and breaks off, /stall/{n} stops sending. */
let server: Server;
let origin: string;

const bytes = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 13) % 251));

beforeAll(async () => {
  server = createServer((req, res) => {
    const [, kind, n] = new URL(req.url ?? "/", "http://x").pathname.split("/");
    const body = bytes(Number(n));
    res.writeHead(200, { "content-length": body.length, "content-type": "image/png" });
    if (kind === "whole") res.end(body);
    else if (kind === "cut") res.write(body.subarray(0, 1000), () => res.socket?.destroy());
    else res.write(body.subarray(0, 1000));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const open = (path: string, idleTimeoutMs = 10_000) =>
  openMediaDownload(`${origin}${path}?sign=secret`, {
    allowedHosts: [origin],
    idleTimeoutMs,
    wholeUpTo: 64 * 1024,
  });

describe("openMediaDownload over node:http", () => {
  it("answers a body of at most wholeUpTo bytes whole, as one Buffer, and a larger one as a stream", async () => {
    const small = await open(`/whole/${64 * 1024}`);
    const large = await open(`/whole/${64 * 1024 + 1}`);

    expect(Buffer.isBuffer(small.body)).toBe(true);
    expect(small.body).toEqual(bytes(64 * 1024));
    expect(small).toMatchObject({ contentLength: 64 * 1024, contentType: "image/png" });
    expect(large.body).toBeInstanceOf(Readable);
    const parts: Buffer[] = [];
    for await (const chunk of large.body as Readable) parts.push(chunk as Buffer);
    expect(Buffer.concat(parts)).toEqual(bytes(64 * 1024 + 1));
  });

  it("fails a whole body cut short with a DownloadError that names the URL without its query", async () => {
    const error = await open("/cut/20000").then(
      () => undefined,
      (err: unknown) => err,
    );

    expect(error).toBeInstanceOf(DownloadError);
    expect((error as Error).message).toContain(`${origin}/cut/20000 broke off`);
    expect((error as Error).message).not.toContain("secret");
  });

  it("fails a whole body that stalls once the idle timeout passes", async () => {
    const error = await open("/stall/20000", 200).then(
      () => undefined,
      (err: unknown) => err,
    );

    expect(error).toBeInstanceOf(DownloadError);
    expect((error as Error).message).toContain("stalled for 200 ms");
  });
});
