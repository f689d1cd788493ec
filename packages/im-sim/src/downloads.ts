import { createReadStream } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import type { ChatType } from "@imvault/im-core";
import type { SimContext } from "./context.ts";
import type { ActiveFault } from "./faults.ts";
import { gzipFileStream } from "./generator.ts";
import { cosError, sendText } from "./http-util.ts";
import { COS_ORIGIN, mediaBytes, mediaContentType, recogniseObjectPath, sizedMediaStream } from "./media.ts";
import { remember, type SeenDownload } from "./records.ts";
import { mediaSignValid, openFileToken } from "./tokens.ts";

/**
 * History-file and media downloads. Bytes are produced as a stream (history files read from the disk
 * cache, else regenerated from their token), cut to a Range if one is asked, then passed through the
 * download fault (if any).
 */

const DEFAULT_SLOW_BPS = 256 * 1024;
/** Read size of cached files: big reads keep a fast client fed with few event-loop turns. */
const CACHE_READ_BYTES = 1024 * 1024;
const STALL_MAX_BYTES = 64 * 1024;

function record(
  sim: SimContext,
  req: IncomingMessage,
  target: SeenDownload["target"],
  path: string,
): SeenDownload {
  return remember(
    sim.downloads,
    {
      seq: sim.nextSeq(),
      at: sim.clock.now(),
      target,
      method: req.method ?? "",
      path,
      chatType: undefined,
      msgTime: undefined,
      fileIndex: undefined,
      status: 0,
      range: req.headers.range,
      bytesExpected: 0,
      bytesSent: 0,
      complete: false,
      ended: false,
      fault: undefined,
    },
    sim.maxRecords,
  );
}

function refuse(
  res: ServerResponse,
  seen: SeenDownload,
  status: 403 | 404 | 405 | 416 | 500,
  message: string,
): void {
  seen.status = status;
  seen.ended = true;
  const code =
    status === 404
      ? "NoSuchKey"
      : status === 416
        ? "InvalidRange"
        : status === 500
          ? "InternalError"
          : "AccessDenied";
  sendText(res, status, cosError(code, message), "application/xml");
}

/** GET|HEAD /download/<token>/<name>.gz */
export async function handleFileDownload(
  sim: SimContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? "/", "http://sim.invalid");
  const seen = record(sim, req, "history", url.pathname);
  if (req.method !== "GET" && req.method !== "HEAD") return refuse(res, seen, 405, "method not allowed");
  const token = openFileToken(sim.tokenKey, url.pathname.split("/")[2] ?? "");
  if (token === undefined || token.sdkAppId !== sim.sdkAppId) {
    return refuse(res, seen, 403, "Request has invalid signature");
  }
  seen.chatType = token.chatType;
  seen.msgTime = token.msgTime;
  seen.fileIndex = token.fileIndex;
  if (sim.clock.now() >= token.expires * 1000) return refuse(res, seen, 403, "Request has expired");
  const fault = sim.faults.forDownload({
    target: "history",
    chatType: token.chatType,
    msgTime: token.msgTime,
    fileIndex: token.fileIndex,
  });
  if (fault !== undefined) seen.fault = fault.kind;
  if (refusedByFault(res, seen, fault)) return;

  const chatType = token.chatType as ChatType;
  const cached = await sim.cachedFile(chatType, token.msgTime, token.fileIndex, token.gzipSize);
  if (cached !== undefined) {
    return serve(req, res, seen, {
      size: token.gzipSize,
      contentType: "application/x-gzip",
      // A file on disk starts where the range does; nothing to skip.
      open: (start) => ({
        stream: createReadStream(cached, { start, highWaterMark: CACHE_READ_BYTES }),
        at: start,
      }),
      fault,
    });
  }
  const spec = sim.hourSpec(chatType, token.msgTime);
  const file = {
    index: token.fileIndex,
    firstMessage: token.firstMessage,
    messageCount: token.messageCount,
    fileSize: 0,
    fileMd5: "",
    gzipSize: token.gzipSize,
    gzipMd5: "",
  };
  await serve(req, res, seen, {
    size: token.gzipSize,
    contentType: "application/x-gzip",
    open: () => ({ stream: gzipFileStream(spec, file, sim.gzipLevel), at: 0 }),
    fault,
  });
}

/** GET|HEAD /cos/<object path>?sign=…&im-time-expired=… (the PreSigURLs of get_cos_sig) */
export async function handleMediaDownload(
  sim: SimContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? "/", "http://sim.invalid");
  const seen = record(sim, req, "media", url.pathname);
  if (req.method !== "GET" && req.method !== "HEAD") return refuse(res, seen, 405, "method not allowed");
  const objectPath = decodeURIComponent(url.pathname.slice("/cos/".length));
  const expires = Number(url.searchParams.get("im-time-expired"));
  const sign = url.searchParams.get("sign") ?? "";
  if (!Number.isSafeInteger(expires) || !mediaSignValid(sim.tokenKey, objectPath, expires, sign)) {
    return refuse(res, seen, 403, "Request has invalid signature");
  }
  if (sim.clock.now() >= expires * 1000) return refuse(res, seen, 403, "Request has expired");
  const fault = sim.faults.forDownload({ target: "media", objectPath });
  if (fault !== undefined) seen.fault = fault.kind;
  if (refusedByFault(res, seen, fault)) return;
  const media = recogniseObjectPath(sim.mediaKeys, objectPath);
  // Banned objects are readable with a FULL_CONTROL PreSigURL; missing and unknown ones are not there.
  if (media === undefined || sim.cosStatus(`${COS_ORIGIN}/${objectPath}`, media) === 2) {
    return refuse(res, seen, 404, "The specified key does not exist.");
  }
  const size = sim.mediaSize(objectPath);
  if (size !== undefined) {
    // A sized object: generated piece by piece as it is sent, never held whole.
    return serve(req, res, seen, {
      size,
      contentType: mediaContentType(media),
      open: (start) => sizedMediaStream(media, size, start),
      fault,
    });
  }
  const { body, contentType } = mediaBytes(media);
  await serve(req, res, seen, {
    size: body.length,
    contentType,
    open: () => ({ stream: Readable.from([body]), at: 0 }),
    fault,
  });
}

/** The download faults that answer instead of the bytes; true when one did. */
function refusedByFault(res: ServerResponse, seen: SeenDownload, fault: ActiveFault | undefined): boolean {
  if (fault?.kind === "expireUrlEarly") refuse(res, seen, 403, "Request has expired");
  else if (fault?.kind === "notFound") refuse(res, seen, 404, "The specified key does not exist.");
  else if (fault?.kind === "serverError") refuse(res, seen, 500, "We encountered an internal error.");
  else return false;
  return true;
}

interface Body {
  size: number;
  contentType: string;
  /** The bytes from offset `start` on, or from an earlier offset `at` (pump skips up to `start`). */
  open: (start: number) => { stream: Readable; at: number };
  fault: ActiveFault | undefined;
}

/** Parses a single `bytes=a-b` / `bytes=a-` / `bytes=-n` range; null when absent, undefined when unusable. */
function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | null | undefined {
  if (header === undefined) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (m === null || (m[1] === "" && m[2] === "")) return undefined;
  let start: number;
  let end: number;
  if (m[1] === "") {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(size - 1, Number(m[2]));
  }
  if (start > end || start >= size) return undefined;
  return { start, end };
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  seen: SeenDownload,
  body: Body,
): Promise<void> {
  const range = parseRange(req.headers.range, body.size);
  if (range === undefined) {
    res.setHeader("content-range", `bytes */${body.size}`);
    return refuse(res, seen, 416, "The requested range is not satisfiable");
  }
  const start = range?.start ?? 0;
  const length = range === null ? body.size : range.end - range.start + 1;
  seen.status = range === null ? 200 : 206;
  seen.bytesExpected = length;
  const headers: Record<string, string | number> = {
    "content-type": body.contentType,
    "content-length": length,
    "accept-ranges": "bytes",
  };
  if (range !== null) headers["content-range"] = `bytes ${range.start}-${range.end}/${body.size}`;
  res.writeHead(seen.status, headers);
  if (req.method === "HEAD") {
    res.end();
    seen.complete = true;
    seen.ended = true;
    return;
  }
  const { stream, at } = body.open(start);
  await pump(res, stream, start - at, length, body.fault, seen);
}

/** Resolves when the response can take more, or when it is gone. */
function writable(res: ServerResponse): Promise<void> {
  if (!res.writableNeedDrain || res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

function sleep(ms: number, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      res.off("close", done);
      resolve();
    }
    res.on("close", done);
  });
}

/**
 * Sends bytes [skip, skip+length) of the source, applying the fault: corrupt flips one byte;
 * truncate cuts the connection after `afterBytes`; stall sends `afterBytes` and then nothing (the
 * socket stays open until the client gives up or the simulator closes); slow paces the bytes.
 */
async function pump(
  res: ServerResponse,
  source: Readable,
  skip: number,
  length: number,
  fault: ActiveFault | undefined,
  seen: SeenDownload,
): Promise<void> {
  const kind = fault?.kind;
  const cutAt =
    kind === "truncate"
      ? Math.min(length - 1, fault?.afterBytes ?? Math.floor(length / 2))
      : kind === "stall"
        ? Math.min(length - 1, fault?.afterBytes ?? Math.min(STALL_MAX_BYTES, Math.floor(length / 2)))
        : undefined;
  const flipAt = kind === "corrupt" ? Math.min(length - 1, fault?.at ?? Math.floor(length / 2)) : undefined;
  const bps = kind === "slow" ? Math.max(1, fault?.bytesPerSecond ?? DEFAULT_SLOW_BPS) : undefined;
  res.on("close", () => {
    seen.ended = true;
    source.destroy();
  });
  res.on("finish", () => {
    seen.complete = seen.bytesSent === length;
  });

  let skipped = 0;
  try {
    for await (const raw of source) {
      if (res.destroyed) return;
      let chunk = raw as Buffer;
      if (skipped < skip) {
        const drop = Math.min(skip - skipped, chunk.length);
        skipped += drop;
        chunk = chunk.subarray(drop);
        if (chunk.length === 0) continue;
      }
      if (seen.bytesSent + chunk.length > length) chunk = chunk.subarray(0, length - seen.bytesSent);
      if (flipAt !== undefined && flipAt >= seen.bytesSent && flipAt < seen.bytesSent + chunk.length) {
        chunk = Buffer.from(chunk);
        chunk[flipAt - seen.bytesSent]! ^= 0xff;
      }
      if (cutAt !== undefined && seen.bytesSent + chunk.length >= cutAt) {
        const part = chunk.subarray(0, cutAt - seen.bytesSent);
        seen.bytesSent += part.length;
        source.destroy();
        if (kind === "truncate") {
          // Cut the connection once the partial body has reached the socket.
          res.write(part, () => res.socket?.destroy());
        } else {
          res.write(part);
          // Stall: nothing more is sent; the socket is destroyed on client abort or simulator close.
        }
        return;
      }
      if (bps !== undefined) {
        for (let off = 0; off < chunk.length && !res.destroyed; off += 16 * 1024) {
          const piece = chunk.subarray(off, off + 16 * 1024);
          res.write(piece);
          seen.bytesSent += piece.length;
          await sleep((piece.length / bps) * 1000, res);
        }
      } else {
        res.write(chunk);
        seen.bytesSent += chunk.length;
        await writable(res);
      }
      if (seen.bytesSent >= length) break;
    }
    if (!res.destroyed) res.end();
  } catch {
    // The source failed (or was destroyed because the client left): cut the response.
    res.destroy();
  }
}
