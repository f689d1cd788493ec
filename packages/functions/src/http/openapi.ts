import { MAX_RAW_URL_LENGTH, MAX_STATUS_HOURS } from "@imvault/im-core";

/**
 * The HTTP API's OpenAPI 3.1 document, served at GET /v1/openapi.json. Built from the configured
 * limits so that what it promises (maxItems, body size) is what the handler enforces.
 */

export interface OpenApiOptions {
  maxItems: number;
  maxBodyBytes: number;
  version?: string;
}

type Schema = Record<string, unknown>;
export interface OpenApiResponse {
  description: string;
  headers?: Record<string, unknown>;
  content?: Record<string, { schema: Schema }>;
}
export interface OpenApiOperation {
  operationId: string;
  summary: string;
  security?: Record<string, string[]>[];
  parameters?: Record<string, unknown>[];
  requestBody?: Record<string, unknown>;
  responses: Record<string, OpenApiResponse | { $ref: string }>;
}
export interface OpenApiDocument {
  openapi: "3.1.0";
  info: { title: string; version: string; description: string };
  security: Record<string, string[]>[];
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: {
    securitySchemes: Record<string, unknown>;
    schemas: Record<string, Schema>;
    responses: Record<string, OpenApiResponse>;
  };
}

const json = (schema: Schema) => ({ "application/json": { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errorRef = (name: string) => ({ $ref: `#/components/responses/${name}` });

export function openApiDocument(options: OpenApiOptions): OpenApiDocument {
  const errors = (...names: string[]) => Object.fromEntries(names.map((n) => [n, errorRef(`E${n}`)]));
  const errorResponse = (description: string, headers?: Record<string, unknown>): OpenApiResponse => ({
    description,
    ...(headers === undefined ? {} : { headers }),
    content: json(ref("Error")),
  });
  return {
    openapi: "3.1.0",
    info: {
      title: "imvault",
      version: options.version ?? "1",
      description:
        "FULL_CONTROL signed URLs for Tencent Cloud IM rich media, and the state of the chat-history archive. " +
        "Every route but /v1/health needs Authorization: Bearer <token>; each lookup is audited under the key's name.",
    },
    security: [{ bearer: [] }],
    paths: {
      "/v1/health": {
        get: {
          operationId: "health",
          summary: "Liveness; needs no token",
          security: [],
          responses: {
            "200": { description: "Alive", content: json(ref("Health")) },
          },
        },
      },
      "/v1/openapi.json": {
        get: {
          operationId: "openapi",
          summary: "This document",
          responses: {
            "200": {
              description: "The OpenAPI 3.1 document",
              content: json({ type: "object", required: ["openapi"] }),
            },
            ...errors("401"),
          },
        },
      },
      "/v1/cos-sig": {
        post: {
          operationId: "cosSig",
          summary: "FULL_CONTROL signed URLs and statuses for rich-media URLs (Tencent get_cos_sig)",
          requestBody: {
            required: true,
            description: `Exactly Tencent's get_cos_sig body; at most ${options.maxBodyBytes} bytes.`,
            content: json(ref("CosSigRequest")),
          },
          responses: {
            "200": {
              description: "One answer per item, in the request's order",
              content: json(ref("CosSigResponse")),
            },
            ...errors("400", "401", "413", "429", "500", "502", "504"),
          },
        },
      },
      "/v1/archive/{chatType}/{msgTime}": {
        get: {
          operationId: "archivedHour",
          summary: "One archived hour: its manifest and short-lived download URLs of its files",
          parameters: [
            {
              name: "chatType",
              in: "path",
              required: true,
              schema: { type: "string", enum: ["C2C", "Group"] },
            },
            {
              name: "msgTime",
              in: "path",
              required: true,
              description: "The hour as YYYYMMDDHH, Beijing time (UTC+8)",
              schema: { type: "string", pattern: "^\\d{10}$" },
            },
          ],
          responses: {
            "200": {
              description: "The hour is archived (or recorded empty or expired)",
              content: json(ref("ArchivedHour")),
            },
            ...errors("400", "401", "404", "500"),
          },
        },
      },
      "/v1/status": {
        get: {
          operationId: "status",
          summary: "Archive coverage of the last N ended hours, per hour and chat type",
          parameters: [
            {
              name: "hours",
              in: "query",
              required: false,
              description: "How many ended hours to show; default LOOKBACK_HOURS",
              schema: { type: "integer", minimum: 1, maximum: MAX_STATUS_HOURS },
            },
          ],
          responses: {
            "200": { description: "Coverage table", content: json(ref("Coverage")) },
            ...errors("400", "401", "500"),
          },
        },
      },
    },
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      responses: {
        E400: errorResponse("The request is invalid; details.items names every bad RawURLs item"),
        E401: errorResponse("Missing, malformed or unknown token", {
          "WWW-Authenticate": { schema: { type: "string", const: "Bearer" } },
        }),
        E404: errorResponse("Not found (an hour not archived yet, an unknown route)"),
        E413: errorResponse(`The body is larger than ${options.maxBodyBytes} bytes`),
        E429: errorResponse("Tencent IM is rate limiting this app", {
          "Retry-After": { required: true, schema: { type: "integer", minimum: 1 } },
        }),
        E500: errorResponse("Internal error; the logs have the request id"),
        E502: errorResponse("Tencent IM refused or failed; the message names the code and what to check"),
        E504: errorResponse("Tencent IM did not answer in time"),
      },
      schemas: {
        Error: {
          type: "object",
          required: ["error"],
          properties: {
            error: {
              type: "object",
              required: ["code", "message"],
              properties: {
                code: {
                  type: "string",
                  enum: [
                    "invalid_request",
                    "unauthorized",
                    "not_found",
                    "method_not_allowed",
                    "payload_too_large",
                    "rate_limited",
                    "upstream_error",
                    "upstream_timeout",
                    "internal_error",
                  ],
                },
                message: { type: "string" },
                details: { type: "object" },
              },
            },
          },
        },
        Health: {
          type: "object",
          required: ["status"],
          properties: { status: { type: "string", const: "ok" } },
        },
        CosSigRequest: {
          type: "object",
          additionalProperties: false,
          required: ["RawURLs"],
          properties: {
            RawURLs: {
              type: "array",
              minItems: 1,
              maxItems: options.maxItems,
              items: {
                type: "object",
                additionalProperties: false,
                required: ["ResourceID", "RawURL"],
                properties: {
                  ResourceID: {
                    type: "integer",
                    minimum: 0,
                    maximum: 4294967295,
                    description: "Unique within the request",
                  },
                  RawURL: {
                    type: "string",
                    format: "uri",
                    maxLength: MAX_RAW_URL_LENGTH,
                    description:
                      "https on an allowed host (default *.myqcloud.com and the IM download hosts)",
                  },
                },
              },
            },
          },
        },
        CosSigResponse: {
          type: "object",
          required: ["PreSigURLs"],
          properties: { PreSigURLs: { type: "array", items: ref("CosSigResult") } },
        },
        CosSigResult: {
          type: "object",
          required: ["ResourceID", "Code", "Desc", "PreSigURL", "Status", "StatusText", "ExpiresAt"],
          properties: {
            ResourceID: { type: "integer" },
            Code: { type: "integer" },
            Desc: { type: "string" },
            PreSigURL: { type: "string", description: "FULL_CONTROL URL, valid about 15 minutes" },
            Status: { type: "integer", description: "0 normal, 1 banned, 2 missing" },
            StatusText: { type: "string", enum: ["normal", "banned", "missing", "unknown"] },
            ExpiresAt: { type: "string", format: "date-time" },
          },
        },
        ManifestFile: {
          type: "object",
          required: ["key", "sourceUrl", "gzipSize", "gzipMd5", "fileSize", "fileMd5", "messageCount"],
          properties: {
            key: { type: "string" },
            sourceUrl: { type: "string" },
            gzipSize: { type: "integer" },
            gzipMd5: { type: "string" },
            fileSize: { type: "integer" },
            fileMd5: { type: "string" },
            messageCount: { type: "integer" },
          },
        },
        Manifest: {
          type: "object",
          required: ["version", "chatType", "msgTime", "status", "files", "archivedAt"],
          properties: {
            version: { type: "integer", const: 1 },
            chatType: { type: "string", enum: ["C2C", "Group"] },
            msgTime: { type: "string" },
            status: { type: "string", enum: ["archived", "empty", "expired"] },
            files: { type: "array", items: ref("ManifestFile") },
            archivedAt: { type: "string", format: "date-time" },
          },
        },
        ArchivedHour: {
          type: "object",
          required: ["manifest", "downloads"],
          properties: {
            manifest: ref("Manifest"),
            downloads: {
              type: "array",
              items: {
                type: "object",
                required: ["key", "url", "expiresAt"],
                properties: {
                  key: { type: "string" },
                  url: { type: "string" },
                  expiresAt: { type: "string", format: "date-time" },
                },
              },
            },
          },
        },
        Coverage: {
          type: "object",
          required: ["hours", "from", "to", "rows", "totals"],
          properties: {
            hours: { type: "integer" },
            from: { type: "string" },
            to: { type: "string" },
            rows: {
              type: "array",
              items: {
                type: "object",
                required: ["msgTime", "chatType", "status", "files", "bytes", "messages"],
                properties: {
                  msgTime: { type: "string" },
                  chatType: { type: "string", enum: ["C2C", "Group"] },
                  status: { type: "string", enum: ["archived", "empty", "expired", "missing"] },
                  files: { type: "integer" },
                  bytes: { type: "integer" },
                  messages: { type: "integer" },
                },
              },
            },
            totals: {
              type: "object",
              required: ["archived", "empty", "expired", "missing"],
              properties: {
                archived: { type: "integer" },
                empty: { type: "integer" },
                expired: { type: "integer" },
                missing: { type: "integer" },
              },
            },
          },
        },
      },
    },
  };
}
