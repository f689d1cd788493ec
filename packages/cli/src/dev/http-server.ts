import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ConfigError } from "@imvault/im-core";
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
      headers: request.headers,
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
