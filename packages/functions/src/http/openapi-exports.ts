/**
 * The OpenAPI document's `/v1/exports` paths (openapi.ts holds the rest and the component schemas
 * they refer to: ExportRequest, ExportStarted, ExportStatus, Error).
 */
import type { JsonSchema } from "@valibot/to-json-schema";
import type { OpenApiOperation, OpenApiOptions } from "./openapi.ts";

const json = (schema: JsonSchema) => ({ "application/json": { schema } });
const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [String(s), { $ref: `#/components/responses/E${s}` }]));

/**
 * `/v1/exports`: an export for review (the filters and formats of `imvault export`), run by the
 * archive function off the job queue and fetched as a zip through a short-lived URL.
 */
export function exportPaths(options: OpenApiOptions): Record<string, Record<string, OpenApiOperation>> {
  return {
    "/v1/exports": {
      post: {
        operationId: "startExport",
        summary:
          "Start an export of one user's, group's or conversation's messages over a window (the filters and formats of `imvault export`); audited under the key's name",
        requestBody: {
          required: true,
          description: `At most ${options.maxBodyBytes} bytes. An unknown field, a malformed hour, from after to, no window, or not exactly one of user, group and conversation is refused with 400 (details.issues names each problem).`,
          content: json(ref("ExportRequest")),
        },
        responses: {
          "202": {
            description: "The export is queued; GET /v1/exports/{id} answers its state",
            content: json(ref("ExportStarted")),
          },
          ...errors(400, 401, 404, 413, 500),
        },
      },
    },
    "/v1/exports/{id}": {
      get: {
        operationId: "exportStatus",
        summary:
          "An export's state: queued, running, succeeded (with a short-lived URL of export.zip, its size and SHA-256) or failed (error says why); audited",
        parameters: [
          {
            name: "id",
            in: "path",
            required: true,
            description: "The id POST /v1/exports answered",
            schema: { type: "string", minLength: 1 },
          },
        ],
        responses: {
          "200": { description: "The export's state", content: json(ref("ExportStatus")) },
          ...errors(401, 404, 500),
        },
      },
    },
  };
}
