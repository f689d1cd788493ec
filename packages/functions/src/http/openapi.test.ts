import { Readable } from "node:stream";
import SwaggerParser from "@apidevtools/swagger-parser";
import {
  type ArchiveStore,
  CoverageRowSchema,
  ImApiError,
  type LocalArchiveStore,
  ManifestSchema,
  TimeoutError,
} from "@imvault/im-core";
import { AthenaSearches } from "@imvault/im-core/athena";
import { athenaMessages, FakeAthena } from "@imvault/im-core/testing";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import {
  AUTH,
  apiHarness,
  cosSig,
  json,
  MEDIA_URL,
  MISSING_MEDIA_URL,
  MOD_TOKEN,
  manifest,
  OPS_TOKEN,
  twoItems,
  useArchiveFixture,
} from "../../testing/api-harness.ts";
import { type ApiGatewayEventInit, apiGatewayEvent } from "../../testing/apigw-event.ts";
import type { ApiHandler } from "./app.ts";
import { type OpenApiDocument, openApiDocument } from "./openapi.ts";

let store: LocalArchiveStore;
useArchiveFixture((fixture) => {
  ({ store } = fixture);
});

const DOC_ID = "https://imvault.invalid/openapi.json";

/**
 * A strict JSON Schema 2020-12 validator (OpenAPI 3.1's dialect) holding the document, so that a
 * schema anywhere in it can be compiled by its JSON pointer and its $refs resolve as in the document.
 */
function documentValidator(doc: OpenApiDocument) {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats.default(ajv);
  // The document's own fields are not schema keywords; the schemas in it are compiled one by one.
  ajv.addVocabulary(["openapi", "info", "security", "paths", "components"]);
  ajv.addSchema(doc, DOC_ID);
  return (pointer: string): ValidateFunction => {
    const validate = ajv.getSchema(`${DOC_ID}#${pointer}`);
    if (validate === undefined) throw new Error(`no schema at ${pointer}`);
    return validate;
  };
}

const pointerPart = (part: string) => part.replaceAll("~", "~0").replaceAll("/", "~1");

describe("the OpenAPI document", () => {
  const doc = openApiDocument({ maxItems: 5, maxBodyBytes: 4096 });

  it("is valid OpenAPI 3.1 (the official schema) and every $ref in it resolves", async () => {
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
  });

  it("is refused by that check when broken, so the check can fail", async () => {
    const dangling = structuredClone(doc);
    dangling.paths["/v1/status"]!.get!.responses["200"] = { $ref: "#/components/responses/Nope" };
    const undescribed = structuredClone(doc);
    delete (undescribed.paths["/v1/health"]!.get!.responses["200"] as { description?: string }).description;

    await expect(SwaggerParser.validate(dangling as never)).rejects.toThrow(/Nope/);
    await expect(SwaggerParser.validate(undescribed as never)).rejects.toThrow(/description/);
  });

  it("holds schemas a strict JSON Schema 2020-12 validator compiles, no unknown keyword", () => {
    const compile = documentValidator(doc);
    for (const name of Object.keys(doc.components.schemas)) {
      expect(() => compile(`/components/schemas/${name}`), name).not.toThrow();
    }
  });

  it("promises the configured limits and the chat types and statuses of im-core's schemas", () => {
    const schemas = doc.components.schemas as Record<
      string,
      { properties: Record<string, Record<string, unknown>> }
    >;
    expect(schemas.CosSigRequest?.properties.RawURLs).toMatchObject({ minItems: 1, maxItems: 5 });
    expect(doc.paths["/v1/cos-sig"]?.post?.requestBody?.description).toMatch(/at most 4096 bytes/);
    expect(schemas.CoverageRow?.properties.status?.enum).toEqual(CoverageRowSchema.entries.status.options);
    expect(schemas.Manifest?.properties.chatType?.enum).toEqual(ManifestSchema.entries.chatType.options);
    expect(schemas.CoverageRow?.properties.status?.enum).toContain("corrupt");
    // A search names its window and nothing the API does not know.
    expect(schemas.SearchRequest).toMatchObject({ required: ["from", "to"], additionalProperties: false });
    expect(Object.keys(schemas.SearchRequest?.properties ?? {}).sort()).toEqual([
      "from",
      "group",
      "limit",
      "peer",
      "text",
      "to",
      "type",
      "user",
    ]);
  });

  it("asks an export for its window and format, and nothing the API does not know", () => {
    const request = doc.components.schemas.ExportRequest as { required?: string[]; properties?: object };
    expect(request).toMatchObject({ additionalProperties: false });
    expect([...(request.required ?? [])].sort()).toEqual(["format", "from", "to"]);
    expect(Object.keys(request.properties ?? {}).sort()).toEqual([
      "conversation",
      "format",
      "from",
      "group",
      "to",
      "user",
    ]);
    expect(doc.components.schemas.ExportStatus).toMatchObject({ required: ["id", "state"] });
  });

  it("agrees with the valibot schema it comes from on what a manifest may be", () => {
    const validate = documentValidator(doc)("/components/schemas/Manifest");
    const good = manifest("C2C", "2024030116", ["a.gz"]);
    const bad = [
      { ...good, version: 2 },
      { ...good, chatType: "c2c" },
      { ...good, msgTime: "20240301" },
      { ...good, status: "missing" },
      { ...good, files: [{ ...good.files[0], gzipMd5: "XYZ" }] },
      { ...good, files: [{ ...good.files[0], gzipSize: -1 }] },
      { version: 1 },
    ];
    expect([validate(good), v.is(ManifestSchema, good)]).toEqual([true, true]);
    for (const value of bad)
      expect([validate(value), v.is(ManifestSchema, value)], JSON.stringify(value)).toEqual([false, false]);
  });
});

describe("OpenAPI contract", () => {
  it("documents every status and body each route actually answers", async () => {
    const harness = (overrides: Parameters<typeof apiHarness>[0] | object = {}) =>
      apiHarness({ store, ...overrides });
    const failing = (error: unknown) => async () => Promise.reject(error);
    const brokenStore: ArchiveStore = {
      ...store,
      get: async () => {
        throw new Error("disk failure");
      },
      list: () => ({
        [Symbol.asyncIterator]: () => ({ next: async () => Promise.reject(new Error("disk failure")) }),
      }),
    };
    // Every manifest this store holds reads as "not JSON": the hour is corrupt, not archived.
    const corruptStore: ArchiveStore = {
      ...store,
      get: async () => Readable.from([Buffer.from("{not json")]),
    };
    const ok = harness();
    const openapi = json(await ok.call({ path: "/v1/openapi.json", headers: AUTH })) as OpenApiDocument;
    const schemaAt = documentValidator(openapi);
    const twoAuthorizations = { authorization: `Bearer ${MOD_TOKEN},Bearer ${OPS_TOKEN}` };
    // Searches on the Athena adapter over a fake Athena: one finished, one running, one failed.
    const athena = new FakeAthena(athenaMessages(3));
    const athenaSearches = (client = athena) =>
      new AthenaSearches({ client, workgroup: "wg", database: "db", pageSize: 2 });
    const searching = harness({ searches: athenaSearches() });
    const window = { from: "2015120100", to: "2015120123" };
    const [done, running, failed] = await Promise.all(
      [0, 1, 2].map(async () => (await athenaSearches().start(window, { keyName: "ops" })).id),
    );
    athena.finish(done!, "SUCCEEDED");
    athena.finish(failed!, "CANCELLED", "Bytes scanned limit was exceeded");
    const broken = harness({
      searches: athenaSearches({ send: failing(new Error("athena down")) } as unknown as FakeAthena),
    });
    const search = (
      body: string | object,
      headers: Record<string, string> | null = AUTH,
    ): ApiGatewayEventInit => ({
      method: "POST",
      path: "/v1/searches",
      ...(headers === null ? {} : { headers }),
      body,
    });
    // Exports: one of each state in the store, a queue that takes jobs and one that refuses them.
    const exportIds = {
      queued: "1a000000-0000-4000-8000-000000000001",
      running: "1a000000-0000-4000-8000-000000000002",
      succeeded: "1a000000-0000-4000-8000-000000000003",
      failed: "1a000000-0000-4000-8000-000000000004",
    };
    await store.put(`exports/${exportIds.queued}/request.json`, JSON.stringify({ state: "queued" }));
    const zip = Buffer.from("PK zip bytes");
    await store.put(`exports/${exportIds.succeeded}/export.zip`, zip);
    for (const [state, extra] of [
      ["running", {}],
      ["succeeded", { size: zip.length, sha256: "ab".repeat(32) }],
      ["failed", { error: "--from 2030010100 is past the archive" }],
    ] as const) {
      await store.put(
        `exports/${exportIds[state]}/status.json`,
        JSON.stringify({ id: exportIds[state], state, at: "2024-03-01T10:00:00.000Z", ...extra }),
      );
    }
    const exporting = harness({ exportQueue: { sendBatch: async () => ({ failed: [] }) } });
    const refusingQueue = harness({
      exportQueue: {
        sendBatch: async (entries: { id: string }[]) => ({
          failed: entries.map((e) => ({ id: e.id, senderFault: false, message: "throttled" })),
        }),
      },
    });
    const exportBody = { user: "u1", format: "rsmf", from: "2024030100", to: "2024030123" };
    const startExport = (
      body: string | object,
      headers: Record<string, string> | null = AUTH,
    ): ApiGatewayEventInit => ({
      method: "POST",
      path: "/v1/exports",
      ...(headers === null ? {} : { headers }),
      body,
    });
    const scenarios: [ApiHandler, ApiGatewayEventInit][] = [
      [exporting.handle, startExport(exportBody)],
      [exporting.handle, startExport({ ...exportBody, from: undefined, group: "G1" })],
      [exporting.handle, startExport(exportBody, null)],
      [exporting.handle, startExport("x".repeat(5000))],
      [ok.handle, startExport(exportBody)],
      [refusingQueue.handle, startExport(exportBody)],
      ...Object.values(exportIds).map((id): [ApiHandler, ApiGatewayEventInit] => [
        exporting.handle,
        { path: `/v1/exports/${id}`, headers: AUTH },
      ]),
      [exporting.handle, { path: "/v1/exports/1a000000-0000-4000-8000-000000000009", headers: AUTH }],
      [exporting.handle, { path: `/v1/exports/${exportIds.queued}` }],
      [harness({ store: brokenStore }).handle, { path: `/v1/exports/${exportIds.queued}`, headers: AUTH }],
      [ok.handle, { path: "/v1/health" }],
      [ok.handle, { method: "HEAD", path: "/v1/health" }],
      [ok.handle, { path: "/v1/openapi.json", headers: AUTH }],
      [ok.handle, { path: "/v1/openapi.json" }],
      [ok.handle, { path: "/v1/openapi.json", headers: twoAuthorizations }],
      [ok.handle, cosSig(twoItems)],
      [ok.handle, cosSig({ RawURLs: [] })],
      [ok.handle, cosSig({ RawURLs: [{ ResourceID: -1, RawURL: "http://evil.example/a" }] })],
      [ok.handle, cosSig(twoItems, {})],
      [ok.handle, cosSig("x".repeat(5000))],
      [harness({ getCosSig: failing(new Error("x")) }).handle, cosSig(twoItems)],
      [
        harness({
          getCosSig: failing(new ImApiError({ command: "c", code: 60007, info: "", retryable: true })),
        }).handle,
        cosSig(twoItems),
      ],
      [
        harness({
          getCosSig: failing(new ImApiError({ command: "c", code: 70009, info: "", retryable: false })),
        }).handle,
        cosSig(twoItems),
      ],
      [harness({ getCosSig: failing(new TimeoutError("slow")) }).handle, cosSig(twoItems)],
      [ok.handle, { path: "/v1/archive/C2C/2024030116", headers: AUTH }],
      [ok.handle, { path: "/v1/archive/group/2024030117", headers: AUTH }],
      [ok.handle, { path: "/v1/archive/C2C/2024030110", headers: AUTH }],
      [ok.handle, { path: "/v1/archive/X/2024030116", headers: AUTH }],
      [ok.handle, { path: "/v1/archive/C2C/2024030116" }],
      [harness({ store: brokenStore }).handle, { path: "/v1/archive/C2C/2024030116", headers: AUTH }],
      [harness({ store: corruptStore }).handle, { path: "/v1/archive/C2C/2024030116", headers: AUTH }],
      [harness({ store: corruptStore }).handle, { path: "/v1/status?hours=2", headers: AUTH }],
      [ok.handle, { path: `/v1/media?rawUrl=${encodeURIComponent(MEDIA_URL)}`, headers: AUTH }],
      [ok.handle, { path: `/v1/media?rawUrl=${encodeURIComponent(MISSING_MEDIA_URL)}`, headers: AUTH }],
      [ok.handle, { path: "/v1/media?rawUrl=https%3A%2F%2Fevil.example%2Fa.png", headers: AUTH }],
      [ok.handle, { path: `/v1/media?rawUrl=${encodeURIComponent(MEDIA_URL)}` }],
      [
        harness({ store: brokenStore }).handle,
        { path: `/v1/media?rawUrl=${encodeURIComponent(MEDIA_URL)}`, headers: AUTH },
      ],
      [ok.handle, { path: "/v1/media/banned?from=2024030110&to=2024030118", headers: AUTH }],
      [harness({ store: corruptStore }).handle, { path: "/v1/media/banned", headers: AUTH }],
      [ok.handle, { path: "/v1/media/banned?from=2024030118&to=2024030110", headers: AUTH }],
      [ok.handle, { path: "/v1/media/banned" }],
      [harness({ store: brokenStore }).handle, { path: "/v1/media/banned", headers: AUTH }],
      [ok.handle, { path: "/v1/status?hours=2", headers: AUTH }],
      [ok.handle, { path: "/v1/status?hours=0", headers: AUTH }],
      [ok.handle, { path: "/v1/status" }],
      [harness({ store: brokenStore }).handle, { path: "/v1/status", headers: AUTH }],
      [searching.handle, search({ user: "u1", text: "你好", ...window })],
      [searching.handle, search({ user: "u1" })],
      [searching.handle, search({ sql: "DROP TABLE messages", ...window })],
      [searching.handle, search({ from: "2015-12-01", to: "2015120123" })],
      [searching.handle, search(window, null)],
      [searching.handle, search("x".repeat(5000))],
      [ok.handle, search(window)],
      [broken.handle, search(window)],
      [searching.handle, { path: `/v1/searches/${done}`, headers: AUTH }],
      [searching.handle, { path: `/v1/searches/${running}`, headers: AUTH }],
      [searching.handle, { path: `/v1/searches/${failed}`, headers: AUTH }],
      [searching.handle, { path: `/v1/searches/${done}?cursor=nope`, headers: AUTH }],
      [searching.handle, { path: `/v1/searches/${done}` }],
      [searching.handle, { path: "/v1/searches/0f0e0d0c-0b0a-4909-8807-060504030201", headers: AUTH }],
      [broken.handle, { path: `/v1/searches/${done}`, headers: AUTH }],
      [ok.handle, { path: "/v1/nope", headers: AUTH }],
      [ok.handle, { method: "DELETE", path: "/v1/status", headers: AUTH }],
    ];

    const seen = new Set<string>();
    const problems: string[] = [];
    const check = (where: string, pointer: string, body: unknown) => {
      const validate = schemaAt(pointer);
      if (!validate(body)) {
        problems.push(
          ...(validate.errors ?? []).map((e) => `${where} ${e.instancePath || "/"} ${e.message}`),
        );
      }
    };
    for (const [handle, init] of scenarios) {
      const event = apiGatewayEvent(init);
      const res = await handle(event);
      const method = event.requestContext.http.method.toLowerCase();
      const template = Object.keys(openapi.paths).find((t) =>
        new RegExp(`^${t.replace(/[.]/g, "\\.").replace(/\{[^}]+\}/g, "[^/]+")}$`).test(event.rawPath),
      );
      const operation = template === undefined ? undefined : openapi.paths[template]?.[method];
      const where = `${method.toUpperCase()} ${event.rawPath} → ${res.statusCode}`;
      if (template === undefined || operation === undefined) {
        // Undocumented route or method: the answer is still the documented error shape.
        check(where, "/components/schemas/Error", json(res));
        continue;
      }
      const documented = operation.responses[String(res.statusCode)];
      if (documented === undefined) {
        problems.push(`${where}: status not documented`);
        continue;
      }
      seen.add(`${template} ${method} ${res.statusCode}`);
      const responsePointer =
        "$ref" in documented
          ? documented.$ref.slice(1)
          : `/paths/${pointerPart(template)}/${method}/responses/${res.statusCode}`;
      const response =
        "$ref" in documented ? openapi.components.responses[responsePointer.split("/").at(-1)!]! : documented;
      if (response.content === undefined) {
        if (res.body !== "") problems.push(`${where}: a body where the document has none`);
      } else {
        check(where, `${responsePointer}/content/application~1json/schema`, json(res));
      }
      for (const [name, header] of Object.entries(response.headers ?? {}) as [
        string,
        { required?: boolean },
      ][]) {
        if (header.required && res.headers?.[name.toLowerCase()] === undefined)
          problems.push(`${where}: header ${name} missing`);
      }
    }
    expect(problems).toEqual([]);

    // Every documented status of every route was produced by some scenario above.
    const documented = Object.entries(openapi.paths).flatMap(([template, ops]) =>
      Object.entries(ops).flatMap(([method, op]) =>
        Object.keys(op.responses).map((s) => `${template} ${method} ${s}`),
      ),
    );
    expect(documented.filter((d) => !seen.has(d))).toEqual([]);
  });
});
