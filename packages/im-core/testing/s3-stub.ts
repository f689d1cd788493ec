/**
 * A stubbed HTTP layer under a real S3Client, for the S3 adapter's unit tests: the real SDK serializes
 * requests and parses these answers, so what is tested is the adapter's reading of the errors S3
 * actually sends (the emulator used by the system tests cannot produce a 412).
 */
import { Readable } from "node:stream";
import { S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";

export interface SeenRequest {
  method: string;
  path: string;
  query: Record<string, unknown>;
  headers: Record<string, string>;
  bodyBytes: number;
}

export type Answer = { status: number; headers?: Record<string, string>; body?: string };
export type Responder = (request: SeenRequest) => Answer | Promise<Answer>;

export function stubbedS3(
  respond: Responder,
  config: Partial<S3ClientConfig> = {},
): { client: S3Client; seen: SeenRequest[] } {
  const seen: SeenRequest[] = [];
  const requestHandler = {
    async handle(request: {
      method: string;
      path: string;
      query?: Record<string, unknown>;
      headers: Record<string, string>;
      body?: unknown;
    }) {
      const body = request.body;
      const bodyBytes = Buffer.isBuffer(body) || body instanceof Uint8Array ? body.byteLength : 0;
      const lowered = Object.fromEntries(
        Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]),
      );
      const entry = {
        method: request.method,
        path: request.path,
        query: request.query ?? {},
        headers: lowered,
        bodyBytes,
      };
      seen.push(entry);
      const answer = await respond(entry);
      return {
        response: {
          statusCode: answer.status,
          headers: { "content-type": "application/xml", ...answer.headers },
          body: Readable.from(answer.body === undefined ? [] : [Buffer.from(answer.body)]),
        },
      };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
  };
  const client = new S3Client({
    region: "us-east-1",
    credentials: { accessKeyId: "stub", secretAccessKey: "stub" },
    forcePathStyle: true,
    endpoint: "http://127.0.0.1:9",
    requestHandler,
    maxAttempts: 1,
    ...config,
  });
  return { client, seen };
}

export const errorXml = (code: string, message: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;
export const PRECONDITION_FAILED: Answer = {
  status: 412,
  body: errorXml("PreconditionFailed", "At least one of the pre-conditions you specified did not hold"),
};

/** Answers the multipart calls as S3 does; `complete` decides CompleteMultipartUpload's answer. */
export function multipartResponder(complete: Answer, onPart?: () => Promise<void>): Responder {
  return async (request) => {
    if (request.method === "POST" && "uploads" in request.query) {
      return {
        status: 200,
        body: "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>up-1</UploadId></InitiateMultipartUploadResult>",
      };
    }
    if (request.method === "PUT" && "partNumber" in request.query) {
      await onPart?.();
      return { status: 200, headers: { etag: `"part-${String(request.query.partNumber)}"` } };
    }
    if (request.method === "POST" && "uploadId" in request.query) return complete;
    if (request.method === "DELETE" && "uploadId" in request.query) return { status: 204 };
    if (request.method === "PUT") return { status: 200, headers: { etag: '"single"' } };
    return { status: 500, body: errorXml("InternalError", `unexpected ${request.method} ${request.path}`) };
  };
}

export const MiB = 1024 * 1024;

export function zeros(totalBytes: number, chunkBytes = 256 * 1024): { stream: Readable; produced(): number } {
  let produced = 0;
  const stream = new Readable({
    read() {
      if (produced >= totalBytes) return void this.push(null);
      const size = Math.min(chunkBytes, totalBytes - produced);
      produced += size;
      this.push(Buffer.alloc(size));
    },
  });
  return { stream, produced: () => produced };
}
