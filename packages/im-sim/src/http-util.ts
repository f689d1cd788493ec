import type { IncomingMessage, ServerResponse } from "node:http";

export const MAX_BODY_BYTES = 1024 * 1024;

/** The request body as text, or undefined if it is larger than `max` bytes (the rest is drained). */
export async function readBody(req: IncomingMessage, max = MAX_BODY_BYTES): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooBig = false;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) tooBig = true;
    else chunks.push(chunk as Buffer);
  }
  return tooBig ? undefined : Buffer.concat(chunks).toString("utf8");
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  contentType = "text/plain",
): void {
  res.writeHead(status, {
    "content-type": `${contentType}; charset=utf-8`,
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

/** Body of an HTTP-level gateway failure, like the nginx in front of Tencent's API answers. */
export function gatewayPage(status: 502 | 503): string {
  const title = status === 502 ? "502 Bad Gateway" : "503 Service Temporarily Unavailable";
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
}

/** COS-style XML error body of a refused download. */
export function cosError(
  code: "AccessDenied" | "NoSuchKey" | "InvalidRange" | "InternalError",
  message: string,
): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>\n`;
}
