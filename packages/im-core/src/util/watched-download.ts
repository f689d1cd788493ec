/**
 * What the history files' and the media's downloads share: the watch a download runs under (the
 * caller's abort, the idle timer, its errors), the status error, and the node:http(s) transport that
 * hands the socket's chunks on as a stream. Each download builds its own watch and fetch transport
 * (archive/download.ts, media/download.ts).
 */
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import { DownloadError } from "../errors.ts";
import { requestFor } from "./http-request.ts";

/** Buffered body bytes before the socket is paused (the verifier reads in pieces of this order). */
export const BODY_HIGH_WATER_MARK = 1 << 20;

/** The abort, idle-timeout and error plumbing one download shares between both transports. */
export interface Watch {
  /** The URL as errors name it (without its query, which may carry a signature). */
  shown: string;
  controller: AbortController;
  /** (Re)starts the idle timer: call on every byte received. */
  arm(): void;
  /** Stops the timer and lets go of the caller's signal. */
  disarm(): void;
  /** A failure as the error to throw: the stall (or the caller's abort) wins over the symptom. */
  failed(stage: "failed" | "broke off", err: unknown): Error;
}

/** Any status but 2xx; `expired` for 403/404/410 (a presigned URL to ask for again). */
export function statusError(shown: string, status: number): DownloadError {
  const expired = status === 403 || status === 404 || status === 410;
  return new DownloadError(`download of ${shown} answered HTTP ${status}`, { status, expired });
}

/**
 * GET `url` with node:http(s) under `w`: the body as a stream (paused while its consumer is behind)
 * and the response's headers. A status but 2xx is statusError; a connection cut before the end errors
 * the body.
 */
export async function openHttpBody(
  url: URL,
  w: Watch,
): Promise<{ body: Readable; headers: IncomingHttpHeaders }> {
  const res = await openHttpResponse(url, w);
  return { body: bodyStream(res, w), headers: res.headers };
}

/** GET `url` with node:http(s) under `w`: the response, once its status is 2xx (else statusError). */
export async function openHttpResponse(url: URL, w: Watch): Promise<IncomingMessage> {
  let res: IncomingMessage;
  try {
    const request = requestFor(url);
    res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(url, { signal: w.controller.signal, headers: { "accept-encoding": "identity" } });
      req.once("response", resolve);
      req.once("error", reject);
      req.end();
    });
  } catch (err) {
    w.disarm();
    throw w.failed("failed", err);
  }
  const status = res.statusCode ?? 0;
  if (status < 200 || status > 299) {
    w.disarm();
    res.destroy();
    throw statusError(w.shown, status);
  }
  return res;
}

/** The response's body as a stream: the socket's chunks handed on as they come, paused while the consumer is behind. */
export function bodyStream(res: IncomingMessage, w: Watch): Readable {
  const body = new Readable({
    highWaterMark: BODY_HIGH_WATER_MARK,
    read() {
      res.resume();
    },
    destroy(err, callback) {
      w.disarm();
      res.destroy();
      callback(err);
    },
  });
  res.on("data", (chunk: Buffer) => {
    w.arm();
    if (!body.push(chunk)) res.pause();
  });
  res.once("end", () => {
    w.disarm();
    body.push(null);
  });
  res.once("error", (err) => body.destroy(w.failed("broke off", err)));
  // A connection cut before the advertised length ends the response without "end" (or "error").
  res.once("close", () => {
    if (!res.complete) body.destroy(w.failed("broke off", new Error("connection closed early")));
  });
  return body;
}

/**
 * The response's whole body as one Buffer, for a small one: its chunks gathered as they come, without
 * a stream between (per object, a stream and a pipeline cost more CPU than the bytes of a small file;
 * bench/README.md "Media capture"). The same errors as bodyStream's.
 */
export function bodyBytes(res: IncomingMessage, w: Watch): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on("data", (chunk: Buffer) => {
      w.arm();
      chunks.push(chunk);
      size += chunk.length;
    });
    res.once("end", () => {
      w.disarm();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    const fail = (err: unknown) => {
      w.disarm();
      res.destroy();
      reject(w.failed("broke off", err));
    };
    res.once("error", fail);
    res.once("close", () => {
      if (!res.complete) fail(new Error("connection closed early"));
    });
  });
}
