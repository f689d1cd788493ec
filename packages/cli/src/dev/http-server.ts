import {
  createServer,
  type IncomingMessage,
  maxHeaderSize,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { type ApiErrorCode, ConfigError } from "@imvault/im-core";
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from "aws-lambda";
import { MAX_BODY_BYTES, toApiGatewayEvent, writeError, writeResult } from "./apigw-event.ts";
import { lambdaContext } from "./lambda-context.ts";

export type ApiGatewayHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyResultV2>;

export interface DevHttpServerOptions {
  host: string;
  port: number;
  /** The real API handler, fed API Gateway v2 events. */
  api: ApiGatewayHandler;
  /** Answers requests it owns (signed file downloads) and returns true; otherwise the API gets them. */
  files?: (request: IncomingMessage, response: ServerResponse) => Promise<boolean>;
  /** API Gateway's integration timeout. */
  timeoutMs?: number;
  onError?: (error: unknown) => void;
}

export interface DevHttpServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** An HTTP server on loopback that plays API Gateway's HTTP API in front of the api handler. */
export async function startDevHttpServer(options: DevHttpServerOptions): Promise<DevHttpServer> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const server: Server = createServer((request, response) => {
    serve(request, response).catch((error: unknown) => {
      options.onError?.(error);
      if (!response.headersSent)
        writeError(response, 500, "internal_error", "the local server failed to answer");
      else response.destroy();
    });
  });

  // Requests Node cannot parse (a path or headers over its limit, malformed HTTP) are answered before
  // any handler runs, as API Gateway answers them before the Lambda: Node's statuses, the API's body.
  server.on("clientError", (error: Error & { code?: string }, socket: Duplex) => {
    if (error.code === "HPE_HEADER_OVERFLOW") {
      const message = `the request line and headers exceed ${maxHeaderSize} bytes`;
      endWithError(socket, 431, "headers_too_large", message);
    } else if (error.code === "HPE_CHUNK_EXTENSIONS_OVERFLOW") {
      endWithError(socket, 413, "payload_too_large", "the chunk extensions are too large");
    } else if (error.code?.startsWith("HPE_") === true) {
      endWithError(socket, 400, "invalid_request", "the request is not valid HTTP/1.1");
    } else if (error.code === "ERR_HTTP_REQUEST_TIMEOUT" && socket.writable) {
      socket.end("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n"); // as Node answers it
    } else {
      socket.destroy(); // a reset: nobody is left to read an answer
    }
  });

  async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (options.files !== undefined && (await options.files(request, response))) return;
    const receivedAt = Date.now();
    const body = await readBody(request, MAX_BODY_BYTES);
    if (body === undefined) {
      writeError(
        response,
        413,
        "payload_too_large",
        `the request body is larger than ${MAX_BODY_BYTES} bytes`,
      );
      return;
    }
    const event = toApiGatewayEvent({
      method: request.method ?? "GET",
      url: request.url ?? "/",
      // Every value of a repeated header (request.headers keeps the first Authorization only): the
      // event joins them with commas, as API Gateway does.
      headers: request.headersDistinct,
      sourceIp: request.socket.remoteAddress ?? "127.0.0.1",
      body,
      receivedAt,
    });
    const result = await options.api(event, lambdaContext("imvault-api", timeoutMs));
    writeResult(response, result);
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error & { code?: string }) =>
      reject(
        error.code === "EADDRINUSE"
          ? new ConfigError(
              "PORT",
              `${options.port} is already in use on ${options.host}: set PORT to a free port (0 picks one)`,
            )
          : error,
      );
    server.once("error", onError);
    server.listen(options.port, options.host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Requests still running get a moment to finish, then their connections are cut.
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
      }),
  };
}

/** An error answer written straight to the connection, which is then closed. */
function endWithError(socket: Duplex, status: number, code: ApiErrorCode, message: string): void {
  // An answer already under way on this connection (a pipelined request) cannot be followed by ours.
  const current = (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage;
  if (!socket.writable || current?.headersSent === true) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** The whole body, or undefined once it exceeds `limit` (the rest is drained, not buffered). */
async function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooBig = false;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) tooBig = true;
    if (!tooBig) chunks.push(chunk as Buffer);
  }
  return tooBig ? undefined : Buffer.concat(chunks);
}
