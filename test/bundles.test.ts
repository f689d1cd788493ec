/**
 * The bundles Lambda runs, run the way Lambda runs them: each built .mjs is imported in a fresh Node
 * process whose environment holds SST's links exactly as SST sets them (`SST_RESOURCE_<Name>` JSON),
 * plus the AWS SDK's own endpoint variables pointing at the local emulator. The schedule bundle
 * enqueues a backfill, the archive bundle archives it from the IM simulator into S3, and the api
 * bundle serves the archived hour with a presigned download URL; then the same for the hour's media:
 * a media job planned, its objects captured into S3, one of them served by `GET /v1/media`; and a
 * search started and read through the api bundle's Athena client, against a local Athena endpoint.
 */
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { buffer } from "node:stream/consumers";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { apiGatewayEvent } from "@imvault/functions/testing";
import { addHours, hourOf, readManifest, readMediaManifest } from "@imvault/im-core";
import { createS3Store } from "@imvault/im-core/s3";
import { type Simulator, startSimulator, TEST_ADMIN, TEST_SDKAPPID, TEST_SECRET_KEY } from "@imvault/im-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toSqsEvent } from "../packages/cli/src/dev/sqs-event.ts";
import { bundleFunctions } from "../scripts/bundle.ts";
import { type LocalAws, startLocalAws, TEST_CREDENTIALS, TEST_REGION } from "./support/fauxqs.ts";

const run = promisify(execFile);
const onLoopback = (url: string) => {
  const u = new URL(url);
  u.hostname = "127.0.0.1";
  return u.href;
};
const root = fileURLToPath(new URL("..", import.meta.url));
// Inside the repository, so the bundles' external AWS SDK resolves from node_modules as in Lambda's runtime.
const OUT = join(root, "dist", "functions-under-test");
const API_TOKEN = randomBytes(18).toString("base64url");

/** Imports one bundle in a fresh process, calls its handler with `event`, answers what it returned. */
const INVOKE = [
  "const [bundle, event] = process.argv.slice(1);",
  "const { handler } = await import(bundle);",
  "const context = { awsRequestId: 'test', functionName: 'f', getRemainingTimeInMillis: () => 60000 };",
  "const out = await handler(JSON.parse(event), context);",
  "process.stdout.write('\\n<<result>>' + JSON.stringify(out ?? null));",
].join("\n");

describe("the built Lambda bundles, configured by SST links", () => {
  let sim: Simulator;
  let aws: LocalAws;
  let bucket: string;
  let queue: { url: string; arn: string };
  let env: NodeJS.ProcessEnv;
  const msgTime = addHours(hourOf(Date.now()), -4);

  async function invoke(name: string, event: unknown): Promise<unknown> {
    const bundle = pathToFileURL(join(OUT, `${name}.mjs`)).href;
    const { stdout, stderr } = await run(
      process.execPath,
      ["--input-type=module", "-e", INVOKE, bundle, JSON.stringify(event)],
      { env, timeout: 60_000 },
    );
    const at = stdout.lastIndexOf("<<result>>");
    if (at === -1) throw new Error(`${name} bundle answered nothing:\n${stderr}`);
    return JSON.parse(stdout.slice(at + "<<result>>".length));
  }

  beforeAll(async () => {
    await bundleFunctions(OUT);
    sim = await startSimulator({ seed: "bundles", processingDelayMinutes: 0, volume: 200 });
    aws = await startLocalAws();
    bucket = await aws.createBucket();
    queue = await aws.createQueue("bundle-jobs");
    const link = (value: unknown) => JSON.stringify(value);
    env = {
      PATH: process.env.PATH,
      // What SST puts in a deployed function's environment for its links.
      SST_RESOURCE_App: link({ name: "imvault", stage: "test" }),
      SST_RESOURCE_ImApp: link({
        type: "sst.sst.Linkable",
        sdkAppId: TEST_SDKAPPID,
        admin: TEST_ADMIN,
        region: "cn",
        baseUrl: sim.url,
        rateLimit: 50,
        lookbackHours: 72,
        settleHours: 6,
        maxAttemptsPerFile: 3,
      }),
      SST_RESOURCE_ImSecretKey: link({ type: "sst.sst.Secret", value: TEST_SECRET_KEY }),
      SST_RESOURCE_ApiKeys: link({ type: "sst.sst.Secret", value: `ops:${API_TOKEN}` }),
      SST_RESOURCE_ArchiveBucket: link({ type: "sst.sst.Linkable", name: bucket }),
      // fauxqs names its queues on a *.localhost host, which this machine does not resolve: same queue, by IP.
      SST_RESOURCE_Jobs: link({ type: "sst.sst.Linkable", url: onLoopback(queue.url) }),
      // The api function's searches (Athena, reached at the first search only: none here).
      SST_RESOURCE_MessageTable: link({
        type: "sst.sst.Linkable",
        workgroup: "imvault-test",
        database: "imvault_test",
      }),
      // The AWS SDK's own settings, as Lambda provides credentials and region; endpoints → the emulator.
      AWS_REGION: TEST_REGION,
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_S3: aws.endpoint,
      AWS_ENDPOINT_URL_SQS: aws.endpoint,
      POWERTOOLS_LOG_LEVEL: "SILENT",
      POWERTOOLS_METRICS_DISABLED: "true",
    };
  }, 120_000);

  afterAll(async () => {
    await sim?.close();
    await aws?.stop();
  });

  it("schedule enqueues, archive archives into S3, api serves the hour", async () => {
    // Act 1: the scheduler's backfill event.
    const summary = await invoke("schedule", { from: msgTime, to: msgTime, chatType: "C2C" });
    expect(summary).toMatchObject({ planned: 1, enqueued: 1 });

    // Act 2: what the queue holds, as the SQS event source would deliver it.
    const received = await aws.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queue.url,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ["All"],
      }),
    );
    expect(received.Messages).toHaveLength(1);
    const response = await invoke(
      "archive",
      toSqsEvent(received.Messages!, { arn: queue.arn, region: TEST_REGION }),
    );
    expect(response).toEqual({ batchItemFailures: [] });

    // Assert: archived in the bucket, byte-identical to what the simulator served.
    const store = createS3Store({ client: aws.s3, bucket });
    const manifest = await readManifest(store, "C2C", msgTime);
    expect(manifest?.status).toBe("archived");
    const served = await sim.hourFiles("C2C", msgTime);
    expect(manifest!.files.map((f) => f.gzipMd5)).toEqual(served.map((f) => f.gzipMd5));

    // Act 3: the API's view of the hour, with a presigned URL that fetches the same bytes.
    const answer = (await invoke(
      "api",
      apiGatewayEvent({
        path: `/v1/archive/C2C/${msgTime}`,
        headers: { authorization: `Bearer ${API_TOKEN}` },
      }),
    )) as { statusCode: number; body: string };
    expect(answer.statusCode).toBe(200);
    const { downloads } = JSON.parse(answer.body) as { downloads: { url: string }[] };
    const bytes = Buffer.from(await (await fetch(downloads[0]!.url)).arrayBuffer());
    expect(createHash("md5").update(bytes).digest("hex")).toBe(manifest!.files[0]!.gzipMd5);
  });

  it("schedule plans the archived hour's media, archive captures them into S3, api serves one by GET /v1/media", async () => {
    // Act 1: a media-only scheduler run over the hour archived above.
    const summary = await invoke("schedule", { kind: "media", from: msgTime, to: msgTime, chatType: "C2C" });
    expect(summary).toMatchObject({ planned: 0, mediaPlanned: 1, enqueued: 1 });
    const received = await aws.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queue.url,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ["All"],
      }),
    );
    expect(received.Messages?.map((m) => JSON.parse(m.Body ?? "").kind)).toEqual(["media"]);

    // Act 2: the archive bundle runs the media job.
    const response = await invoke(
      "archive",
      toSqsEvent(received.Messages!, { arn: queue.arn, region: TEST_REGION }),
    );
    expect(response).toEqual({ batchItemFailures: [] });

    // Assert: every captured object holds the bytes the simulator serves.
    const store = createS3Store({ client: aws.s3, bucket });
    const manifest = await readMediaManifest(store, "C2C", msgTime);
    const captured = manifest!.items.filter((i) => i.status === "captured");
    expect(captured.length).toBeGreaterThan(0);
    const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
    const item = captured[0]!;
    const served = await buffer(sim.mediaObject(item.rawUrl)!.open());
    expect(item.sha256).toBe(sha256(served));

    // Act 3: the API answers the object's facts and a presigned URL of exactly those bytes.
    const media = async (rawUrl: string) =>
      (await invoke(
        "api",
        apiGatewayEvent({
          path: `/v1/media?rawUrl=${encodeURIComponent(rawUrl)}`,
          headers: { authorization: `Bearer ${API_TOKEN}` },
        }),
      )) as { statusCode: number; body: string };
    const answer = await media(item.rawUrl);
    expect(answer.statusCode).toBe(200);
    const facts = JSON.parse(answer.body) as { size: number; sha256: string; url: string };
    expect(facts).toMatchObject({ size: served.length, sha256: item.sha256 });
    const bytes = Buffer.from(await (await fetch(facts.url)).arrayBuffer());
    expect(sha256(bytes)).toBe(item.sha256);
    const unknown = await media(item.rawUrl.replace(/\.(\w+)$/, "-never-sent.$1"));
    expect([unknown.statusCode, JSON.parse(unknown.body).error.code]).toEqual([404, "not_found"]);
  });
  it("api starts a search on Athena and reads its rows back, with the SDK the runtime provides", async () => {
    const ID = "0f0e0d0c-0b0a-4909-8807-060504030201";
    const targets: string[] = [];
    let started: Record<string, unknown> = {};
    const answers: Record<string, unknown> = {
      "AmazonAthena.StartQueryExecution": { QueryExecutionId: ID },
      "AmazonAthena.GetQueryExecution": {
        QueryExecution: { QueryExecutionId: ID, WorkGroup: "imvault-test", Status: { State: "SUCCEEDED" } },
      },
      "AmazonAthena.GetQueryResults": {
        ResultSet: {
          ResultSetMetadata: { ColumnInfo: [{ Name: "line", Type: "bigint" }] },
          Rows: [{ Data: [{ VarCharValue: "line" }] }, { Data: [{ VarCharValue: "3" }] }],
        },
      },
    };
    const athena = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => {
        body += chunk.toString("utf8");
      });
      req.on("end", () => {
        const target = String(req.headers["x-amz-target"]);
        targets.push(target);
        if (target === "AmazonAthena.StartQueryExecution")
          started = JSON.parse(body) as Record<string, unknown>;
        res.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
        res.end(JSON.stringify(answers[target] ?? {}));
      });
    });
    athena.listen(0, "127.0.0.1");
    await once(athena, "listening");
    const shared = env;
    env = { ...env, AWS_ENDPOINT_URL_ATHENA: `http://127.0.0.1:${(athena.address() as AddressInfo).port}` };
    try {
      const auth = { authorization: `Bearer ${API_TOKEN}` };
      const post = (await invoke(
        "api",
        apiGatewayEvent({
          method: "POST",
          path: "/v1/searches",
          headers: auth,
          body: { user: "u1", from: msgTime, to: msgTime },
        }),
      )) as { statusCode: number; body: string };
      const get = (await invoke("api", apiGatewayEvent({ path: `/v1/searches/${ID}`, headers: auth }))) as {
        statusCode: number;
        body: string;
      };

      expect([post.statusCode, JSON.parse(post.body)]).toEqual([202, { id: ID }]);
      expect(started).toMatchObject({
        WorkGroup: "imvault-test",
        QueryExecutionContext: { Database: "imvault_test" },
      });
      expect(started.ExecutionParameters).toContain("'u1'");
      expect([get.statusCode, JSON.parse(get.body)]).toEqual([
        200,
        { state: "succeeded", rows: [{ line: 3 }], nextCursor: null },
      ]);
      expect(targets).toEqual([
        "AmazonAthena.StartQueryExecution",
        "AmazonAthena.GetQueryExecution",
        "AmazonAthena.GetQueryResults",
      ]);
    } finally {
      env = shared;
      athena.close();
    }
  });
});
