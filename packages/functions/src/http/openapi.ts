import {
  ArchivedHourViewSchema,
  BannedMediaItemSchema,
  BannedMediaSchema,
  ChatTypeSchema,
  CosSigRequestItemSchema,
  CosSigResponseSchema,
  CosSigResultSchema,
  CoverageRowSchema,
  CoverageTotalsSchema,
  cosSigRequestSchema,
  ErrorBodySchema,
  ExportApiRequestSchema,
  ExportStartedSchema,
  ExportStatusSchema,
  FileDownloadSchema,
  HealthSchema,
  HourMediaSchema,
  MAX_RAW_URL_LENGTH,
  MAX_STATUS_HOURS,
  ManifestFileSchema,
  ManifestSchema,
  MediaCountsSchema,
  MediaItemSchema,
  MediaLookupSchema,
  MsgTimeSchema,
  RecentCoverageSchema,
  SearchPageSchema,
  SearchRequestSchema,
  SearchRowSchema,
  SearchStartedSchema,
} from "@imvault/im-core";
import { type ConversionConfig, type JsonSchema, toJsonSchemaDefs } from "@valibot/to-json-schema";
import { exportPaths } from "./openapi-exports.ts";

/**
 * The HTTP API's OpenAPI 3.1 document, served at GET /v1/openapi.json. The schemas are generated from
 * im-core's valibot schemas (the ones the code validates with and takes its types from); only the
 * paths are written here. Built from the configured limits, so that what it promises (maxItems, body
 * size) is what the handler enforces.
 */

export interface OpenApiOptions {
  maxItems: number;
  maxBodyBytes: number;
  version?: string;
}

type Json = Record<string, unknown>;
export interface OpenApiResponse {
  description: string;
  headers?: Json;
  content?: Record<string, { schema: JsonSchema }>;
}
export interface OpenApiOperation {
  operationId: string;
  summary: string;
  security?: Record<string, string[]>[];
  parameters?: Json[];
  requestBody?: Json;
  responses: Record<string, OpenApiResponse | { $ref: string }>;
}
export interface OpenApiDocument {
  openapi: "3.1.0";
  info: { title: string; version: string; description: string };
  security: Record<string, string[]>[];
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: {
    securitySchemes: Json;
    schemas: Record<string, JsonSchema>;
    responses: Record<string, OpenApiResponse>;
  };
}

/** OpenAPI 3.1 schemas are JSON Schema 2020-12; components refer to each other by name. */
const CONVERSION: ConversionConfig = {
  target: "draft-2020-12",
  // RawURL's credential check is no JSON Schema keyword; the allow-list is configuration. Both are
  // in RawURL's description.
  ignoreActions: ["check"],
  // A literal converts to a bare `const`; its JSON type is said too, for tools that read `type` only.
  overrideSchema: ({ valibotSchema, jsonSchema }) => {
    if (valibotSchema.type !== "literal" || !("const" in jsonSchema)) return undefined;
    const value = jsonSchema.const;
    const type = Number.isInteger(value) ? "integer" : typeof value;
    return { type, ...jsonSchema } as JsonSchema;
  },
  overrideRef: ({ referenceId }) => `#/components/schemas/${referenceId}`,
};

/** The component schemas, by the names the document has always used. */
function componentSchemas(maxItems: number): Record<string, JsonSchema> {
  return toJsonSchemaDefs(
    {
      Error: ErrorBodySchema,
      Health: HealthSchema,
      CosSigRequest: cosSigRequestSchema(maxItems),
      CosSigRequestItem: CosSigRequestItemSchema,
      CosSigResponse: CosSigResponseSchema,
      CosSigResult: CosSigResultSchema,
      ManifestFile: ManifestFileSchema,
      Manifest: ManifestSchema,
      FileDownload: FileDownloadSchema,
      MediaItem: MediaItemSchema,
      HourMedia: HourMediaSchema,
      ArchivedHour: ArchivedHourViewSchema,
      MediaLookup: MediaLookupSchema,
      BannedMediaItem: BannedMediaItemSchema,
      BannedMedia: BannedMediaSchema,
      MediaCounts: MediaCountsSchema,
      CoverageRow: CoverageRowSchema,
      CoverageTotals: CoverageTotalsSchema,
      Coverage: RecentCoverageSchema,
      SearchRequest: SearchRequestSchema,
      SearchStarted: SearchStartedSchema,
      SearchRow: SearchRowSchema,
      SearchPage: SearchPageSchema,
      ExportRequest: ExportApiRequestSchema,
      ExportStarted: ExportStartedSchema,
      ExportStatus: ExportStatusSchema,
    },
    CONVERSION,
  );
}

const parameterSchemas = toJsonSchemaDefs({ chatType: ChatTypeSchema, msgTime: MsgTimeSchema }, CONVERSION);

const json = (schema: JsonSchema) => ({ "application/json": { schema } });
const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [String(s), { $ref: `#/components/responses/E${s}` }]));

export function openApiDocument(options: OpenApiOptions): OpenApiDocument {
  const errorResponse = (description: string, headers?: Json): OpenApiResponse => ({
    description,
    ...(headers === undefined ? {} : { headers }),
    content: json(ref("Error")),
  });
  const health = (operationId: string, description: string, withBody: boolean): OpenApiOperation => ({
    operationId,
    summary: "Liveness; needs no token",
    security: [],
    responses: {
      "200": { description, ...(withBody ? { content: json(ref("Health")) } : {}) },
    },
  });
  return {
    openapi: "3.1.0",
    info: {
      title: "imvault",
      version: options.version ?? "1",
      description:
        "FULL_CONTROL signed URLs for Tencent Cloud IM rich media, the state of the chat-history archive, and the archived copies of its media. " +
        "Every route but /v1/health needs Authorization: Bearer <token>; each lookup is audited under the key's name.",
    },
    security: [{ bearer: [] }],
    paths: {
      "/v1/health": {
        get: health("health", "Alive", true),
        head: health("healthHead", "Alive (no body)", false),
      },
      "/v1/openapi.json": {
        get: {
          operationId: "openapi",
          summary: "This document",
          responses: {
            "200": {
              description: "The OpenAPI 3.1 document",
              content: json({
                type: "object",
                required: ["openapi", "paths"],
                properties: { openapi: { type: "string", const: "3.1.0" }, paths: { type: "object" } },
              }),
            },
            ...errors(400, 401),
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
            ...errors(400, 401, 413, 429, 500, 502, 504),
          },
        },
      },
      "/v1/archive/{chatType}/{msgTime}": {
        get: {
          operationId: "archivedHour",
          summary:
            "One archived hour: its manifest, short-lived download URLs of its files, and its media (the media manifest's items)",
          parameters: [
            {
              name: "chatType",
              in: "path",
              required: true,
              description: "C2C or Group; other letter cases (c2c, group) are taken too",
              schema: parameterSchemas.chatType!,
            },
            {
              name: "msgTime",
              in: "path",
              required: true,
              description: "The hour as YYYYMMDDHH, Beijing time (UTC+8)",
              schema: parameterSchemas.msgTime!,
            },
          ],
          responses: {
            "200": {
              description: "The hour is archived (or recorded empty or expired)",
              content: json(ref("ArchivedHour")),
            },
            ...errors(400, 401, 404, 409, 500),
          },
        },
      },
      "/v1/media": {
        get: {
          operationId: "media",
          summary:
            "The archived copy of one media URL: its size, SHA-256, content type, Tencent's status when it was captured, and a short-lived download URL",
          parameters: [
            {
              name: "rawUrl",
              in: "query",
              required: true,
              description:
                "The media URL as the chat history holds it (percent-encoded; its query string does not matter), on *.myqcloud.com or COS_URL_HOSTS",
              schema: { type: "string", format: "uri", maxLength: MAX_RAW_URL_LENGTH },
            },
          ],
          responses: {
            "200": { description: "The media URL's bytes are archived", content: json(ref("MediaLookup")) },
            ...errors(400, 401, 404, 500),
          },
        },
      },
      "/v1/media/banned": {
        get: {
          operationId: "bannedMedia",
          summary:
            "The captured media Tencent reported banned (get_cos_sig Status 1) in a window of hours, from their media manifests; GET /v1/media gives each one's short-lived URL",
          parameters: [
            {
              name: "from",
              in: "query",
              required: false,
              description: "First hour, YYYYMMDDHH Beijing time; default LOOKBACK_HOURS hours ending at `to`",
              schema: parameterSchemas.msgTime!,
            },
            {
              name: "to",
              in: "query",
              required: false,
              description: `Last hour, YYYYMMDDHH Beijing time; default the last ended hour. At most ${MAX_STATUS_HOURS} hours in all`,
              schema: parameterSchemas.msgTime!,
            },
          ],
          responses: {
            "200": { description: "The banned media of the window", content: json(ref("BannedMedia")) },
            ...errors(400, 401, 500),
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
            ...errors(400, 401, 500),
          },
        },
      },
      ...searchPaths(options),
      ...exportPaths(options),
    },
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      responses: {
        E400: errorResponse(
          "The request is invalid (details.items names every bad RawURLs item; details.issues every bad search field), or it carries more than one Authorization header",
        ),
        E401: errorResponse("Missing, malformed or unknown token", {
          "WWW-Authenticate": { schema: { type: "string", const: "Bearer" } },
        }),
        E404: errorResponse(
          "Not found (an hour not archived yet, a media URL whose bytes are not archived, an unknown or expired search, an unknown export, an unknown route)",
        ),
        E409: errorResponse(
          "The hour's manifest is corrupt (not JSON or not a manifest): code manifest_corrupt, details name its key",
        ),
        E413: errorResponse(`The body is larger than ${options.maxBodyBytes} bytes`),
        E429: errorResponse("Tencent IM is rate limiting this app", {
          "Retry-After": { required: true, schema: { type: "integer", minimum: 1 } },
        }),
        E500: errorResponse("Internal error; the logs have the request id"),
        E502: errorResponse("Tencent IM refused or failed; the message names the code and what to check"),
        E504: errorResponse("Tencent IM did not answer in time"),
      },
      schemas: componentSchemas(options.maxItems),
    },
  };
}

/**
 * `/v1/searches`: a search of the message table (DuckDB on one machine, Athena in AWS), started with
 * the filters of `imvault search` and answered later, a page at a time.
 */
function searchPaths(options: OpenApiOptions): Record<string, Record<string, OpenApiOperation>> {
  return {
    "/v1/searches": {
      post: {
        operationId: "startSearch",
        summary:
          "Start a search of the archived messages (the filters of `imvault search`; a window, from and to, is required); audited under the key's name",
        requestBody: {
          required: true,
          description: `At most ${options.maxBodyBytes} bytes. An unknown field, a malformed hour, from after to, or no window is refused with 400.`,
          content: json(ref("SearchRequest")),
        },
        responses: {
          "202": {
            description: "The search has started; GET /v1/searches/{id} answers it",
            content: json(ref("SearchStarted")),
          },
          ...errors(400, 401, 404, 413, 500),
        },
      },
    },
    "/v1/searches/{id}": {
      get: {
        operationId: "searchPage",
        summary: "A search's state and a page of its rows, oldest first",
        parameters: [
          {
            name: "id",
            in: "path",
            required: true,
            description: "The id POST /v1/searches answered",
            schema: { type: "string", minLength: 1 },
          },
          {
            name: "cursor",
            in: "query",
            required: false,
            description: "The previous page's nextCursor; none for the first page",
            schema: { type: "string" },
          },
        ],
        responses: {
          "200": {
            description:
              "state running (ask again with the same cursor), succeeded (rows; follow nextCursor until it is null) or failed (error says why)",
            content: json(ref("SearchPage")),
          },
          ...errors(400, 401, 404, 500),
        },
      },
    },
  };
}
