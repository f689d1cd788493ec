/**
 * POST /v1/exports and GET /v1/exports/{id} on one machine: the handler over a local store and a
 * recording queue, the queued job run as the archive function runs it (processJobMessage with the
 * export runner, rows from the DuckDB table), and the zip behind the answered URL unzipped and
 * checked with `imvault export verify`'s check.
 */
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buffer } from "node:stream/consumers";
import {
  createLocalStore,
  type ExportJob,
  type JobDeps,
  type LocalArchiveStore,
  parseJob,
  processJobMessage,
  type QueueEntry,
  TABLE_PREFIX,
} from "@imvault/im-core";
import { openDuckdbExportSource } from "@imvault/im-core/duckdb";
import { type ExportRequest, exportSearch, runExportJob, verifyExport } from "@imvault/im-core/export";
import { FakeClock, recordingLogger, unzipTo, writeIndexedHour } from "@imvault/im-core/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { json } from "../../testing/api-harness.ts";
import { apiGatewayEvent } from "../../testing/apigw-event.ts";
import { type ApiHandler, createApiHandler } from "./app.ts";

const TOKEN = "tok-export-Hn4vB7mQ2wXz";
const AUTH = { authorization: `Bearer ${TOKEN}` };
const HOUR = "2024030112";
/** 30 messages of one hour: u0..u2 to u9, so u1 sent 10 of them. */
const U1_MESSAGES = 10;

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe("exports through the API", () => {
  let dir: string;
  let store: LocalArchiveStore;
  let handle: ApiHandler;
  let sent: QueueEntry[];
  let refuse = false;
  const logger = recordingLogger();
  const clock = new FakeClock(Date.parse("2024-03-01T10:30:00Z"));
  /** Holds the export's source open until released (to see it running). */
  let gate: Promise<void> | undefined;

  const call = (init: Parameters<typeof apiGatewayEvent>[0]) => handle(apiGatewayEvent(init));
  const post = (body: unknown) =>
    call({ method: "POST", path: "/v1/exports", headers: AUTH, body: body as object });
  const get = (id: string) => call({ path: `/v1/exports/${id}`, headers: AUTH });
  const window = { from: HOUR, to: HOUR };

  const runJob = (job: ExportJob, signal: AbortSignal | undefined) =>
    runExportJob(
      {
        store,
        clock,
        logger,
        tmpDir: dir,
        generator: "imvault test",
        openSource: async (request: ExportRequest) => {
          await gate;
          return openDuckdbExportSource(join(dir, "data", TABLE_PREFIX), exportSearch(request));
        },
      },
      job,
      signal,
    );
  // Only the export path of processJobMessage is taken: it reads the logger, the clock and `exports`.
  const jobDeps = () => ({ store, clock, logger, exports: runJob }) as unknown as JobDeps;
  const process = (entry: QueueEntry) =>
    processJobMessage(entry.body, jobDeps(), { attempt: 1, messageId: `m-${entry.id}` });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "imvault-exports-"));
    await writeIndexedHour(join(dir, "data"), { count: 30, senders: 3, text: "message" });
    store = createLocalStore({
      root: join(dir, "data"),
      urlFor: (k, ttl) => `https://files.test/${k}?ttl=${ttl}`,
    });
    handle = createApiHandler({
      getCosSig: async () => [],
      store,
      clock,
      logger,
      exportQueue: {
        sendBatch: async (entries) => {
          if (refuse)
            return { failed: entries.map((e) => ({ id: e.id, senderFault: false, message: "queue full" })) };
          sent.push(...entries);
          return { failed: [] };
        },
      },
      config: {
        apiKeys: [{ name: "ops", token: TOKEN }],
        cosUrlHosts: [],
        maxItems: 10,
        maxBodyBytes: 4096,
        lookbackHours: 72,
      },
    });
  });
  beforeEach(() => {
    sent = [];
    refuse = false;
    gate = undefined;
    logger.lines.length = 0;
  });
  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("accepts an export (202), records who asked, queues its job, and the job's zip is an export that verifies", async () => {
    const accepted = await post({ user: "u1", format: "jsonl", ...window });

    expect(accepted.statusCode).toBe(202);
    const { id } = json(accepted);
    const recorded = JSON.parse((await buffer(await store.get(`exports/${id}/request.json`))).toString());
    expect(recorded).toEqual({
      id,
      state: "queued",
      request: { user: "u1", format: "jsonl", ...window },
      requestedBy: "ops",
      requestedAt: "2024-03-01T10:30:00.000Z",
    });
    expect(sent).toHaveLength(1);
    expect(parseJob(sent[0]!.body)).toEqual({ v: 1, kind: "export", id, request: recorded.request });
    expect(logger.lines.find((l) => l.message === "export")?.fields).toMatchObject({
      audit: true,
      keyName: "ops",
      action: "start",
      outcome: "ok",
      id,
    });
    expect(json(await get(id))).toEqual({ id, state: "queued" });

    // The archive function takes the job; while its rows are being read, the export is running.
    let release = () => {};
    gate = new Promise((r) => {
      release = r;
    });
    const running = process(sent[0]!);
    await expect.poll(async () => json(await get(id)).state).toBe("running");
    release();
    const outcome = await running;
    expect(outcome).toMatchObject({ kind: "done", result: { outcome: "succeeded", messages: U1_MESSAGES } });

    const done = await get(id);
    expect(done.statusCode).toBe(200);
    const answer = json(done);
    expect(answer).toMatchObject({ id, state: "succeeded", expiresAt: "2024-03-01T10:35:00.000Z" });
    const url = new URL(answer.url);
    expect(url.searchParams.get("ttl")).toBe("300");
    const zip = await buffer(await store.get(url.pathname.slice(1)));
    expect(answer.size).toBe(zip.length);
    expect(answer.sha256).toBe(sha256(zip));
    const out = join(dir, `unzipped-${id}`);
    const names = await unzipTo(zip, out);
    expect(names).toContain("export-manifest.json");
    const verified = await verifyExport(out);
    expect(verified.problems).toEqual([]);
    expect(verified.manifest).toMatchObject({ messages: U1_MESSAGES, requestedBy: "ops" });
    expect(
      logger.lines.filter((l) => l.message === "export" && l.fields?.action === "status"),
    ).not.toHaveLength(0);

    // Delivered again (SQS is at-least-once): the finished zip stays as it is.
    const again = await process(sent[0]!);
    expect(again).toMatchObject({ kind: "done", result: { outcome: "already-done" } });
    expect(sha256(await buffer(await store.get(`exports/${id}/export.zip`)))).toBe(answer.sha256);
  });

  it("says failed, with the reason, when the window is past the archive; the job is not retried", async () => {
    const { id } = json(await post({ group: "G1", format: "html", from: "2025010100", to: "2025010123" }));

    const outcome = await process(sent[0]!);

    expect(outcome).toMatchObject({ kind: "done", result: { outcome: "failed" } });
    const answer = json(await get(id));
    expect(answer).toMatchObject({ id, state: "failed" });
    expect(answer.error).toMatch(/past the archive/);
    expect(answer.url).toBeUndefined();
    expect(await store.head(`exports/${id}/export.zip`)).toBeUndefined();
  });

  it("refuses a bad request with 400 naming each problem, and queues nothing", async () => {
    const cases: [unknown, RegExp[]][] = [
      [{ user: "u1", format: "jsonl" }, [/^from: /, /^to: /]],
      [
        { user: "u1", group: "G1", format: "jsonl", ...window },
        [/exactly one of user, group or conversation/],
      ],
      [{ user: "u1", format: "pdf", ...window }, [/^format: /]],
      [{ user: "u1", format: "jsonl", sql: "x", ...window }, [/^sql: /]],
      [{ user: "u1", format: "jsonl", from: "2024030112", to: "2024030111" }, [/from is after to/]],
      [{ user: "u1", format: "jsonl", from: "2024-03-01", to: HOUR }, [/^from: .*YYYYMMDDHH/]],
    ];
    for (const [body, problems] of cases) {
      const res = await post(body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      const issues = (json(res).error.details?.issues ?? [json(res).error.message]) as string[];
      for (const p of problems)
        expect(
          issues.some((i) => p.test(i)),
          `${JSON.stringify(body)}: ${issues}`,
        ).toBe(true);
    }
    expect((await post("not json")).statusCode).toBe(400);
    expect(sent).toEqual([]);
    expect(logger.lines.filter((l) => l.message === "export").map((l) => l.fields?.outcome)).toContain(
      "refused",
    );
  });

  it("answers 404 for an unknown or malformed id, 401 without a key, 500 when the queue refuses the job", async () => {
    expect((await get("0f0e0d0c-0b0a-4909-8807-060504030201")).statusCode).toBe(404);
    expect((await get("..%2Frequest.json")).statusCode).toBe(404);
    expect((await call({ path: "/v1/exports/0f0e0d0c-0b0a-4909-8807-060504030201" })).statusCode).toBe(401);
    refuse = true;
    expect((await post({ user: "u1", format: "jsonl", ...window })).statusCode).toBe(500);
  });

  it("answers 404 on a deployment without the job queue", async () => {
    const bare = createApiHandler({
      getCosSig: async () => [],
      store,
      clock,
      logger,
      config: {
        apiKeys: [{ name: "ops", token: TOKEN }],
        cosUrlHosts: [],
        maxItems: 10,
        maxBodyBytes: 4096,
        lookbackHours: 72,
      },
    });

    const res = await bare(
      apiGatewayEvent({
        method: "POST",
        path: "/v1/exports",
        headers: AUTH,
        body: { user: "u1", format: "jsonl", ...window },
      }),
    );

    expect(res.statusCode).toBe(404);
    expect(json(res).error.message).toMatch(/no job queue/);
  });
});
