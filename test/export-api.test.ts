/**
 * An export through the API on one machine, end to end over the local SQS emulator (fauxqs), as
 * `imvault dev` runs it: POST /v1/exports puts the job on the queue through the SQS adapter, the dev
 * queue worker hands it to the archive consumer (processJobMessage with the export runner, rows from
 * the DuckDB table), and GET /v1/exports/{id} answers a URL of a zip that unzips to an export
 * `imvault export verify` accepts.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buffer } from "node:stream/consumers";
import { apiGatewayEvent } from "@imvault/functions/testing";
import {
  createLocalStore,
  type JobDeps,
  processJobMessage,
  systemClock,
  TABLE_PREFIX,
} from "@imvault/im-core";
import { openDuckdbExportSource } from "@imvault/im-core/duckdb";
import { exportSearch, runExportJob, verifyExport } from "@imvault/im-core/export";
import { createSqsJobQueue } from "@imvault/im-core/sqs";
import { recordingLogger, unzipTo, writeIndexedHour } from "@imvault/im-core/testing";
import type { SQSEvent } from "aws-lambda";
import { afterEach, describe, expect, it } from "vitest";
import { LOCAL_REGION, type LocalQueues, startLocalQueues } from "../packages/cli/src/dev/local-sqs.ts";
import { type QueueWorker, startQueueWorker } from "../packages/cli/src/dev/queue-worker.ts";
import { createApiHandler } from "../packages/functions/src/http/app.ts";

const TOKEN = "tok-export-e2e-Pq7wLm3Xz9";
const AUTH = { authorization: `Bearer ${TOKEN}` };
const HOUR = "2024030112";
describe("an export through the API over the local queue", () => {
  let dir: string | undefined;
  let queues: LocalQueues | undefined;
  let worker: QueueWorker | undefined;

  afterEach(async () => {
    await worker?.stop();
    await queues?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("POST queues the job on SQS, the consumer runs it, GET answers a URL of a zip that verifies", async () => {
    dir = await mkdtemp(join(tmpdir(), "imvault-export-api-"));
    const data = join(dir, "data");
    await writeIndexedHour(data, { count: 12, senders: 2, text: "hello" });
    const store = createLocalStore({ root: data, urlFor: (k, ttl) => `https://files.test/${k}?ttl=${ttl}` });
    const logger = recordingLogger();
    const clock = systemClock;
    queues = await startLocalQueues({
      name: "export-api-test",
      visibilityTimeoutSeconds: 30,
      maxReceiveCount: 2,
    });
    const q = queues;
    const api = createApiHandler({
      getCosSig: async () => [],
      store,
      clock,
      logger,
      exportQueue: createSqsJobQueue(q.client, q.queueUrl),
      config: {
        apiKeys: [{ name: "legal", token: TOKEN }],
        cosUrlHosts: [],
        maxItems: 10,
        maxBodyBytes: 4096,
        lookbackHours: 72,
      },
    });
    // The archive consumer, as packages/functions/src/archive.ts builds it (export path only).
    const deps = {
      store,
      clock,
      logger,
      exports: (job, signal) =>
        runExportJob(
          {
            store,
            clock,
            logger,
            tmpDir: dir!,
            generator: "imvault test",
            openSource: (request) => openDuckdbExportSource(join(data, TABLE_PREFIX), exportSearch(request)),
          },
          job,
          signal,
        ),
    } as Pick<JobDeps, "exports" | "logger" | "clock" | "store"> as JobDeps;
    worker = startQueueWorker({
      client: q.client,
      queueUrl: q.queueUrl,
      queue: { arn: q.queueArn, region: LOCAL_REGION },
      functionName: "archive",
      timeoutMs: 60_000,
      waitTimeSeconds: 1,
      handler: async (event: SQSEvent) => {
        for (const r of event.Records)
          await processJobMessage(r.body, deps, { attempt: 1, messageId: r.messageId });
        return { batchItemFailures: [] };
      },
    });

    const posted = await api(
      apiGatewayEvent({
        method: "POST",
        path: "/v1/exports",
        headers: AUTH,
        body: { conversation: "u1|u9", from: HOUR, to: HOUR, format: "html" },
      }),
    );
    expect(posted.statusCode).toBe(202);
    const { id } = JSON.parse(posted.body ?? "") as { id: string };

    // Bounded: at most 30 looks, 200 ms apart.
    let status: Record<string, unknown> = {};
    for (let i = 0; i < 30; i++) {
      status = JSON.parse(
        (await api(apiGatewayEvent({ path: `/v1/exports/${id}`, headers: AUTH }))).body ?? "",
      );
      if (status.state === "succeeded" || status.state === "failed") break;
      await new Promise((r) => setTimeout(r, 200));
    }

    expect(status).toMatchObject({ id, state: "succeeded" });
    const zip = await buffer(await store.get(new URL(String(status.url)).pathname.slice(1)));
    expect(zip.length).toBe(status.size);
    const out = join(dir, "unzipped");
    await unzipTo(zip, out);
    const verified = await verifyExport(out);
    expect(verified.problems).toEqual([]);
    // u1's six messages with u9, requested by the key "legal".
    expect(verified.manifest).toMatchObject({
      messages: 6,
      requestedBy: "legal",
      request: { format: "html" },
    });
  });
});
