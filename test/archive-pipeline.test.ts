/**
 * The archive pipeline end to end, with the real Lambda handlers and real event shapes: the schedule
 * handler enqueues hour jobs on SQS (fauxqs), the archive handler gets SQS batch events built from
 * what ReceiveMessage returned and downloads from the IM simulator over HTTP, storing into S3 (fauxqs)
 * or a local directory. Every fault the simulator can inject ends archived byte-identical, or fails
 * cleanly with nothing half-written.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import type { ArchiveStore, ChatType } from "@imvault/im-core";
import {
  addHours,
  createLocalStore,
  hourOf,
  type MsgTime,
  rawHourPrefix,
  readManifest,
} from "@imvault/im-core";
import { createS3Store } from "@imvault/im-core/s3";
import { type Simulator, startSimulator, TEST_SDKAPPID, TEST_SECRET_KEY } from "@imvault/im-sim";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { toSqsEvent } from "../packages/cli/src/dev/sqs-event.ts";
import { type LocalAws, startLocalAws, TEST_CREDENTIALS, TEST_REGION } from "./support/fauxqs.ts";
import { lambdaContext } from "./support/lambda.ts";
import { clearOfHourTurn } from "./support/wait.ts";

type ArchiveHandler = (
  event: SQSEvent,
  context: ReturnType<typeof lambdaContext>,
) => Promise<SQSBatchResponse>;
type ScheduleHandler = (event: unknown) => Promise<{ enqueued: number; planned: number }>;

// Start clear of an hour's turn, so that each hour below keeps its role for the whole file.
await clearOfHourTurn(60_000);
const now = Date.now();
const hoursAgo = (n: number): MsgTime => addHours(hourOf(now), -n);

// Hours in the simulator's past (its clock is real time), chosen so each case has its own hour.
const MULTI_FILE = hoursAgo(3);
const PENDING = hoursAgo(1); // ended under an hour ago: the simulator has not produced it yet
const EMPTY = hoursAgo(14); // no messages, and past the 6 h settle window
const EXPIRED = hoursAgo(30); // past the simulator's 24 h retention
const FAULTS = [
  "corrupt",
  "truncate",
  "stall",
  "expireUrlEarly",
  "http502",
  "code1003",
  "rateLimit",
  "sigExpired",
] as const;
const faultHour = (i: number): MsgTime => hoursAgo(4 + i); // hours 4 … 11 ago, C2C
const DOOMED = hoursAgo(12); // corrupt on every attempt

describe.each(["s3", "local"] as const)("archive pipeline, %s store", (storeKind) => {
  let sim: Simulator;
  let aws: LocalAws;
  let dataDir: string;
  let store: ArchiveStore;
  let queue: { url: string; arn: string; dlqUrl?: string };
  let schedule: ScheduleHandler;
  let archive: ArchiveHandler;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    sim = await startSimulator({
      seed: `pipeline-${storeKind}`,
      retentionHours: 24,
      emptyHours: [`C2C:${EMPTY}`, `Group:${EMPTY}`],
      // Small hours, one busy one that the 200 kB file limit splits into several files.
      volume: (_chatType, msgTime) => (msgTime === MULTI_FILE ? 1500 : 40),
      maxFileBytes: 200_000,
      rateLimitPerSecond: 1000,
    });
    aws = await startLocalAws();
    queue = await aws.createQueue(`jobs-${storeKind}`, {
      dlq: { maxReceiveCount: 2 },
      visibilityTimeoutSeconds: 1,
    });
    dataDir = await mkdtemp(join(tmpdir(), "imvault-pipeline-"));
    Object.assign(process.env, {
      IM_SDKAPPID: String(TEST_SDKAPPID),
      IM_SECRET_KEY: TEST_SECRET_KEY,
      IM_BASE_URL: sim.url,
      JOBS_QUEUE_URL: queue.url,
      AWS_ENDPOINT_URL_SQS: aws.endpoint,
      AWS_REGION: TEST_REGION,
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      MAX_ATTEMPTS_PER_FILE: "3",
      DOWNLOAD_IDLE_TIMEOUT_SECONDS: "0.5",
      RETRY_BASE_DELAY_MS: "20",
      POWERTOOLS_LOG_LEVEL: "SILENT",
      POWERTOOLS_METRICS_DISABLED: "true",
    });
    if (storeKind === "s3") {
      const bucket = await aws.createBucket();
      Object.assign(process.env, { ARCHIVE_BUCKET: bucket, AWS_ENDPOINT_URL_S3: aws.endpoint });
      store = createS3Store({ client: aws.s3, bucket });
    } else {
      process.env.DATA_DIR = dataDir;
      store = createLocalStore({ root: dataDir });
    }
    // The handlers read their configuration when imported, as in Lambda.
    vi.resetModules();
    schedule = (await import("@imvault/functions/schedule")).handler as ScheduleHandler;
    archive = (await import("@imvault/functions/archive")).handler as ArchiveHandler;
  });

  afterAll(async () => {
    process.env = savedEnv;
    await sim?.close();
    await aws?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function receive(url: string, max = 10): Promise<Message[]> {
    const out = await aws.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: max,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ["All"],
      }),
    );
    return out.Messages ?? [];
  }

  /** Delivers what the queue holds to the archive handler as Lambda would, honouring partial failures. */
  async function deliverAll(): Promise<{ failedBodies: string[]; delivered: number }> {
    const failedBodies: string[] = [];
    let delivered = 0;
    for (let round = 0; round < 20; round++) {
      const messages = await receive(queue.url);
      if (messages.length === 0) break;
      delivered += messages.length;
      const response = await archive(
        toSqsEvent(messages, { arn: queue.arn, region: TEST_REGION }),
        lambdaContext("archive"),
      );
      const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      const done = messages.filter((m) => !failed.has(m.MessageId!));
      failedBodies.push(...messages.filter((m) => failed.has(m.MessageId!)).map((m) => m.Body!));
      if (done.length > 0) {
        await aws.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queue.url,
            Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
          }),
        );
      }
    }
    return { failedBodies, delivered };
  }

  async function keysUnder(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const o of store.list(prefix)) keys.push(o.key);
    return keys;
  }

  async function md5Of(key: string): Promise<string> {
    const hash = createHash("md5");
    for await (const chunk of await store.get(key)) hash.update(chunk as Buffer);
    return hash.digest("hex");
  }

  /** Every file of the hour is stored and equals, byte for byte (MD5), what the simulator served. */
  async function expectArchivedIdentical(chatType: ChatType, msgTime: MsgTime): Promise<number> {
    const manifest = await readManifest(store, chatType, msgTime);
    expect(manifest?.status, `${chatType} ${msgTime}`).toBe("archived");
    const served = await sim.hourFiles(chatType, msgTime);
    expect(manifest!.files.map((f) => f.gzipMd5)).toEqual(served.map((f) => f.gzipMd5));
    for (const file of manifest!.files) expect(await md5Of(file.key)).toBe(file.gzipMd5);
    expect(manifest!.files.map((f) => f.messageCount)).toEqual(served.map((f) => f.messageCount));
    return manifest!.files.length;
  }

  it("enqueues a backfill window and archives a multi-file hour of both chat types", async () => {
    const summary = await schedule({ from: MULTI_FILE, to: MULTI_FILE });
    expect(summary).toMatchObject({ planned: 2, enqueued: 2 });

    const { failedBodies } = await deliverAll();

    expect(failedBodies).toEqual([]);
    expect(await expectArchivedIdentical("C2C", MULTI_FILE)).toBeGreaterThan(1);
    await expectArchivedIdentical("Group", MULTI_FILE);
  });

  it("answers pending for an hour Tencent has not produced yet, writing nothing", async () => {
    await schedule({ from: PENDING, to: PENDING, chatType: "C2C" });
    const { failedBodies } = await deliverAll();
    expect(failedBodies).toEqual([]);
    expect(await readManifest(store, "C2C", PENDING)).toBeUndefined();
    expect(await keysUnder(rawHourPrefix("C2C", PENDING))).toEqual([]);
  });

  it("writes empty and expired manifests for a settled empty hour and an hour past retention", async () => {
    await schedule({ from: EMPTY, to: EMPTY });
    await schedule({ from: EXPIRED, to: EXPIRED, chatType: "Group" });
    const { failedBodies } = await deliverAll();
    expect(failedBodies).toEqual([]);
    expect((await readManifest(store, "C2C", EMPTY))?.status).toBe("empty");
    expect((await readManifest(store, "Group", EMPTY))?.status).toBe("empty");
    expect((await readManifest(store, "Group", EXPIRED))?.status).toBe("expired");
  });

  it.each(FAULTS.map((kind, i) => [kind, i] as const))(
    "recovers from a %s fault and ends byte-identical",
    async (kind, i) => {
      const msgTime = faultHour(i);
      const downloadFault = ["corrupt", "truncate", "stall", "expireUrlEarly"].includes(kind);
      sim.faults.next({
        kind,
        count: 1,
        match: downloadFault ? { target: "history", chatType: "C2C", msgTime } : { command: "get_history" },
      });
      await schedule({ from: msgTime, to: msgTime, chatType: "C2C" });

      const { failedBodies } = await deliverAll();

      expect(failedBodies).toEqual([]);
      expect(sim.faults.pending().queued).toEqual([]); // the fault really fired
      await expectArchivedIdentical("C2C", msgTime);
    },
  );

  it("fails a job cleanly when every attempt is corrupt, then the queue moves it to the DLQ", async () => {
    sim.faults.next({
      kind: "corrupt",
      count: Number.POSITIVE_INFINITY,
      match: { chatType: "C2C", msgTime: DOOMED },
    });
    await schedule({ from: DOOMED, to: DOOMED, chatType: "C2C" });

    const first = await deliverAll();

    expect(first.failedBodies.map((b) => JSON.parse(b).msgTime)).toEqual([DOOMED]);
    expect(await readManifest(store, "C2C", DOOMED)).toBeUndefined();
    expect(await keysUnder(rawHourPrefix("C2C", DOOMED))).toEqual([]);
    if (storeKind === "local")
      expect(await readdir(join(dataDir, ".imvault", "tmp")).catch(() => [])).toEqual([]);

    // After the visibility timeout it comes back once more, fails again, and then goes to the DLQ.
    let inDlq: Message[] = [];
    for (let i = 0; i < 30 && inDlq.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 500));
      await deliverAll();
      inDlq = await receive(queue.dlqUrl!);
    }
    expect(inDlq.map((m) => JSON.parse(m.Body!).msgTime)).toEqual([DOOMED]);
    sim.faults.clear();
  });

  it("drops a malformed job message instead of retrying it", async () => {
    const event = toSqsEvent(
      [
        {
          MessageId: "m-1",
          ReceiptHandle: "r-1",
          Body: '{"v":1,"chatType":"Room","msgTime":"x"}',
          Attributes: {},
        },
      ],
      { arn: queue.arn, region: TEST_REGION },
    );
    const response = await archive(event, lambdaContext("archive"));
    expect(response.batchItemFailures).toEqual([]);
  });

  it("skips hours that already have a manifest on the next scheduled run, planning their media instead", async () => {
    const summary = await schedule({ from: MULTI_FILE, to: MULTI_FILE });
    expect(summary).toMatchObject({ planned: 0, skipped: 2, mediaPlanned: 2, enqueued: 2 });
  });
});
