import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { CreateBucketCommand, HeadBucketCommand, S3Client } from "@aws-sdk/client-s3";
import {
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalAws, localAwsClientConfig, startLocalAws } from "./support/fauxqs.ts";

async function receive(sqs: SQSClient, url: string, waitSeconds: number): Promise<Message[]> {
  const answer = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: waitSeconds,
      MessageSystemAttributeNames: ["ApproximateReceiveCount"],
    }),
  );
  return answer.Messages ?? [];
}

describe("fauxqs in-process test support", () => {
  let aws: LocalAws;

  beforeAll(async () => {
    aws = await startLocalAws();
  });

  afterAll(async () => {
    await aws.stop();
  });

  it("listens on 127.0.0.1 only, on an ephemeral port", () => {
    expect(aws.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("creates buckets with fresh names that HeadBucket then finds", async () => {
    const a = await aws.createBucket();
    const b = await aws.createBucket();

    const head = await aws.s3.send(new HeadBucketCommand({ Bucket: a }));

    expect(a).not.toBe(b);
    expect(head.$metadata.httpStatusCode).toBe(200);
  });

  it("sends, receives and deletes a message through a queue whose URL came from CreateQueue", async () => {
    const queue = await aws.createQueue("send-receive", { visibilityTimeoutSeconds: 30 });
    await aws.sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: '{"hour":"2024010100"}' }));

    const [message] = await receive(aws.sqs, queue.url, 1);
    await aws.sqs.send(
      new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: message!.ReceiptHandle! }),
    );
    const after = await receive(aws.sqs, queue.url, 0);

    expect(queue.arn).toMatch(/^arn:aws:sqs:us-east-1:\d+:send-receive$/);
    expect(message?.Body).toBe('{"hour":"2024010100"}');
    expect(after).toEqual([]);
  });

  it("moves a message received maxReceiveCount times without delete to the DLQ", async () => {
    const queue = await aws.createQueue("redrive", {
      visibilityTimeoutSeconds: 1,
      dlq: { maxReceiveCount: 2 },
    });
    await aws.sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: "poison" }));

    // Two receives that never delete; each waits out the 1 s visibility timeout. Bounded: 10 polls.
    const receiveCounts: string[] = [];
    for (let poll = 0; poll < 10 && receiveCounts.length < 2; poll += 1) {
      for (const message of await receive(aws.sqs, queue.url, 2)) {
        receiveCounts.push(message.Attributes?.ApproximateReceiveCount ?? "?");
      }
    }
    // The third receive finds it over the limit and redrives it instead of delivering it.
    let dead: Message[] = [];
    let redelivered = 0;
    for (let poll = 0; poll < 5 && dead.length === 0; poll += 1) {
      redelivered += (await receive(aws.sqs, queue.url, 2)).length;
      dead = await receive(aws.sqs, queue.dlqUrl!, 0);
    }

    expect(receiveCounts).toEqual(["1", "2"]);
    expect(redelivered).toBe(0);
    expect(dead.map((message) => message.Body)).toEqual(["poison"]);
  });
});

describe("fauxqs in another process (fauxqs-server.ts)", () => {
  it("prints its loopback endpoint as one JSON line, serves S3 there, and exits on SIGTERM", async () => {
    const child = spawn(process.execPath, [join(import.meta.dirname, "support", "fauxqs-server.ts")], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const lines = createInterface({ input: child.stdout! });
      const [firstLine] = (await once(lines, "line")) as [string];
      const { endpoint } = JSON.parse(firstLine) as { endpoint: string };
      const s3 = new S3Client(localAwsClientConfig(endpoint));
      await s3.send(new CreateBucketCommand({ Bucket: "from-another-process" }));
      const head = await s3.send(new HeadBucketCommand({ Bucket: "from-another-process" }));
      s3.destroy();

      const exited = once(child, "exit");
      child.kill("SIGTERM");
      const [code] = (await exited) as [number | null];

      expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(head.$metadata.httpStatusCode).toBe(200);
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  });
});
