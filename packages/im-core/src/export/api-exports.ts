/**
 * Exports through the API (docs/export.md, "From the API"): `POST /v1/exports` records the request
 * under `exports/{id}/request.json` and puts an export job on the archive queue; the queue's consumer
 * (export-job.ts) writes `exports/{id}/export.zip`, then `exports/{id}/status.json` last; `GET
 * /v1/exports/{id}` reads them back. This module loads no zip writer: the API function imports it.
 */
import { randomUUID } from "node:crypto";
import { text } from "node:stream/consumers";
import * as v from "valibot";
import { NotFoundError, ValidationError } from "../errors.ts";
import { EXPORT_ID, type ExportJob } from "../queue/job.ts";
import type { JobQueue } from "../queue/port.ts";
import type { ArchiveStore } from "../store/port.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import { ExportApiRequestSchema, type ExportRequest } from "./request.ts";

export const EXPORTS_PREFIX = "exports/";
export const EXPORT_STATES = ["queued", "running", "succeeded", "failed"] as const;
export type ExportState = (typeof EXPORT_STATES)[number];

/** `exports/{id}/{file}`: request.json, status.json, export.zip. */
export const exportObjectKey = (id: string, file: "request.json" | "status.json" | "export.zip") =>
  `${EXPORTS_PREFIX}${id}/${file}`;

export const ExportStartedSchema = v.object({
  id: v.pipe(v.string(), v.regex(EXPORT_ID), v.description("GET /v1/exports/{id} answers the export")),
});

export const ExportStatusSchema = v.object({
  id: v.pipe(v.string(), v.regex(EXPORT_ID)),
  state: v.picklist(EXPORT_STATES),
  url: v.optional(
    v.pipe(v.string(), v.description("A short-lived download URL of export.zip (state succeeded)")),
  ),
  expiresAt: v.optional(v.pipe(v.string(), v.description("When url stops working (ISO 8601, UTC)"))),
  size: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.description("export.zip's bytes"))),
  sha256: v.optional(v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/), v.description("export.zip's SHA-256"))),
  error: v.optional(v.pipe(v.string(), v.description("Why the export failed (state failed)"))),
});
export type ExportStatus = v.InferOutput<typeof ExportStatusSchema>;

/** What request.json holds: the request as accepted, who asked and when (state queued). */
export interface StoredExportRequest {
  id: string;
  state: "queued";
  request: ExportRequest;
  requestedBy: string;
  requestedAt: string;
}

/** What status.json holds, written by the queue's consumer (succeeded or failed is written last). */
export interface StoredExportStatus {
  id: string;
  state: "running" | "succeeded" | "failed";
  at: string;
  size?: number;
  sha256?: string;
  error?: string;
  /** failed only: whether the queue will try the job again (a transient failure). */
  retrying?: boolean;
}

export const EXPORT_AUDIT_MESSAGE = "export";

interface Caller {
  keyName: string;
  requestId: string;
}

/** The body of POST /v1/exports checked; a ValidationError naming each problem (details.issues). */
export function parseExportBody(body: unknown): ExportRequest {
  const parsed = v.safeParse(ExportApiRequestSchema, body);
  if (!parsed.success) {
    throw new ValidationError("the export request is malformed", {
      issues: parsed.issues.map((i) => `${v.getDotPath(i) ?? "(body)"}: ${i.message}`),
    });
  }
  return Object.fromEntries(
    Object.entries(parsed.output).filter(([, x]) => x !== undefined),
  ) as ExportRequest;
}

export interface StartExportDeps {
  store: ArchiveStore;
  queue: JobQueue;
  clock: Clock;
  logger: Logger;
  /** Default randomUUID. */
  newId?: () => string;
}

/**
 * Records the export (request.json, create-only) and sends its job; one audit line whether it was
 * accepted or not. The job is sent after request.json is in place, so its consumer always finds it.
 */
export async function startExport(
  deps: StartExportDeps,
  body: unknown,
  caller: Caller,
): Promise<{ id: string }> {
  const started = deps.clock.now();
  const audit = { audit: true, keyName: caller.keyName, requestId: caller.requestId };
  let request: ExportRequest | undefined;
  let id: string | undefined;
  try {
    request = parseExportBody(body);
    id = (deps.newId ?? randomUUID)();
    const record: StoredExportRequest = {
      id,
      state: "queued",
      request,
      requestedBy: caller.keyName,
      requestedAt: new Date(started).toISOString(),
    };
    await deps.store.put(exportObjectKey(id, "request.json"), `${JSON.stringify(record, null, 2)}\n`, {
      ifNoneMatch: true,
    });
    const job: ExportJob = { v: 1, kind: "export", id, request };
    const sent = await deps.queue.sendBatch([{ id: "export", body: JSON.stringify(job) }]);
    if (sent.failed.length > 0) {
      throw new Error(
        `the job queue refused the export job: ${sent.failed.map((f) => f.message).join("; ")}`,
      );
    }
    deps.logger.info(EXPORT_AUDIT_MESSAGE, {
      ...audit,
      action: "start",
      outcome: "ok",
      id,
      request,
      durationMs: deps.clock.now() - started,
    });
    return { id };
  } catch (error) {
    deps.logger.warn(EXPORT_AUDIT_MESSAGE, {
      ...audit,
      action: "start",
      outcome: error instanceof ValidationError ? "refused" : "failed",
      ...(id === undefined ? {} : { id }),
      ...(request === undefined ? {} : { request }),
      error: error instanceof Error ? error.name : typeof error,
      durationMs: deps.clock.now() - started,
    });
    throw error;
  }
}

/**
 * An export's state for GET /v1/exports/{id}: status.json when the consumer has written it, else
 * queued (request.json alone); a short-lived URL of export.zip once it succeeded. One audit line.
 */
export async function exportStatus(
  deps: { store: ArchiveStore; clock: Clock; logger: Logger },
  id: string,
  ttlSeconds: number,
  caller: Caller,
): Promise<ExportStatus> {
  const audit = { audit: true, keyName: caller.keyName, requestId: caller.requestId, action: "status", id };
  const notFound = () =>
    new NotFoundError(`no export ${id.slice(0, 100)}`, { details: { id: id.slice(0, 100) } });
  try {
    if (!EXPORT_ID.test(id)) throw notFound();
    const status = await readJsonObject<StoredExportStatus>(deps.store, exportObjectKey(id, "status.json"));
    let answer: ExportStatus;
    if (status === undefined) {
      const request = await readJsonObject<StoredExportRequest>(
        deps.store,
        exportObjectKey(id, "request.json"),
      );
      if (request === undefined) throw notFound();
      answer = { id, state: "queued" };
    } else if (status.state === "succeeded") {
      answer = {
        id,
        state: "succeeded",
        url: await deps.store.signedUrl(exportObjectKey(id, "export.zip"), ttlSeconds),
        expiresAt: new Date(deps.clock.now() + ttlSeconds * 1000).toISOString(),
        ...(status.size === undefined ? {} : { size: status.size }),
        ...(status.sha256 === undefined ? {} : { sha256: status.sha256 }),
      };
    } else if (status.state === "failed") {
      answer = { id, state: "failed", error: status.error ?? "the export failed" };
    } else {
      answer = { id, state: "running" };
    }
    deps.logger.info(EXPORT_AUDIT_MESSAGE, { ...audit, outcome: "ok", state: answer.state });
    return answer;
  } catch (error) {
    deps.logger.warn(EXPORT_AUDIT_MESSAGE, {
      ...audit,
      outcome: error instanceof NotFoundError ? "not-found" : "failed",
      error: error instanceof Error ? error.name : typeof error,
    });
    throw error;
  }
}

/** A small JSON object of the store, or undefined when there is none. */
export async function readJsonObject<T>(store: ArchiveStore, key: string): Promise<T | undefined> {
  let body: string;
  try {
    body = await text(await store.get(key));
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
  return JSON.parse(body) as T;
}
