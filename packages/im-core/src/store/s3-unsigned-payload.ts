import type { S3Client, ServiceInputTypes, ServiceOutputTypes } from "@aws-sdk/client-s3";
import type { FinalizeRequestMiddleware } from "@smithy/types";

/**
 * The SDK guards an upload's body twice: a flexible checksum header (the store asks for SHA-256) that S3
 * checks, and a SigV4 signature over the body's SHA-256. For upload parts that second pass is a
 * CPU cost that shows in a profile of a large archive (bench/README.md, "S3 store"), on the thread
 * that also downloads and MD5s. The checksum header is itself signed, so S3 still rejects a body that
 * changed by accident; with a SHA-256 checksum header (every put of createS3Store sends one) the
 * signed payload hash adds nothing, and with a CRC one it adds protection against an attacker on the
 * path who swaps in a body with the same CRC, which TLS already gives. So, as botocore does over HTTPS,
 * the payload is sent as UNSIGNED-PAYLOAD when the request has a checksum header and goes over HTTPS
 * or stays on this machine (loopback, e.g. an emulator). Anything else keeps its signed payload:
 * plain HTTP to another host, a body that is not bytes, or no checksum (requestChecksumCalculation
 * "WHEN_REQUIRED").
 */
const CHECKSUM_HEADERS = new Set([
  "x-amz-checksum-crc32",
  "x-amz-checksum-crc32c",
  "x-amz-checksum-crc64nvme",
  "x-amz-checksum-sha1",
  "x-amz-checksum-sha256",
]);
const CONTENT_SHA256 = "x-amz-content-sha256";
const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
const MIDDLEWARE_NAME = "imvaultUnsignedPayloadWhenChecksummed";

interface OutgoingRequest {
  protocol?: string;
  hostname?: string;
  headers?: Record<string, string>;
  body?: unknown;
}

function isLoopback(hostname: string): boolean {
  return (
    hostname === "localhost" ||
    hostname === "[::1]" ||
    hostname === "::1" ||
    /^127(\.\d{1,3}){3}$/.test(hostname)
  );
}

/** Whether `request` may skip the payload's SHA-256 (see above). */
function maySendUnsignedPayload(
  request: OutgoingRequest,
): request is OutgoingRequest & { headers: Record<string, string> } {
  if (request.headers === undefined || !ArrayBuffer.isView(request.body)) return false;
  const secure = request.protocol === "https:" || isLoopback(request.hostname ?? "");
  const names = Object.keys(request.headers).map((name) => name.toLowerCase());
  return secure && !names.includes(CONTENT_SHA256) && names.some((name) => CHECKSUM_HEADERS.has(name));
}

const unsignedPayloadWhenChecksummed: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> =
  (next) => async (args) => {
    const request = args.request as OutgoingRequest;
    if (maySendUnsignedPayload(request)) request.headers[CONTENT_SHA256] = UNSIGNED_PAYLOAD;
    return next(args);
  };

/** Adds the middleware to `client`, just before it signs; adding it again replaces it. */
export function signChecksumInsteadOfPayload(client: S3Client): void {
  client.middlewareStack.addRelativeTo(unsignedPayloadWhenChecksummed, {
    name: MIDDLEWARE_NAME,
    relation: "before",
    toMiddleware: "httpSigningMiddleware",
    override: true,
  });
}
