import { ReceiveMessageCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import type { SQSEvent } from "aws-lambda";
import { afterEach, describe, expect, it } from "vitest";
import { LOCAL_REGION, type LocalQueues, startLocalQueues } from "../packages/cli/src/dev/local-sqs.ts";
import { type QueueWorker, startQueueWorker } from "../packages/cli/src/dev/queue-worker.ts";

/** imvault dev's queue pieces over fauxqs: partial batch responses and the redrive to the DLQ. */
describe("the dev queue worker on the local SQS emulator", () => {
  let queues: LocalQueues | undefined;
  let worker: QueueWorker | undefined;

  afterEach(async () => {
    await worker?.stop();
    await queues?.close();
    worker = undefined;
    queues = undefined;
  });

  it("deletes handled jobs, redelivers failed ones, and moves a job failing maxReceiveCount times to the DLQ", async () => {
    queues = await startLocalQueues({
      name: "redrive-test",
      visibilityTimeoutSeconds: 1,
      maxReceiveCount: 2,
    });
    const q = queues;
    for (const body of ["ok", "poison"]) {
      await q.client.send(new SendMessageCommand({ QueueUrl: q.queueUrl, MessageBody: body }));
    }
    const seen: { body: string; receive: string; arn: string }[] = [];
    worker = startQueueWorker({
      client: q.client,
      queueUrl: q.queueUrl,
      queue: { arn: q.queueArn, region: LOCAL_REGION },
      functionName: "archive",
      timeoutMs: 10_000,
      waitTimeSeconds: 1,
      handler: async (event: SQSEvent) => {
        for (const r of event.Records) {
          seen.push({ body: r.body, receive: r.attributes.ApproximateReceiveCount, arn: r.eventSourceARN });
        }
        return {
          batchItemFailures: event.Records.filter((r) => r.body === "poison").map((r) => ({
            itemIdentifier: r.messageId,
          })),
        };
      },
    });

    // Bounded: at most 15 one-second polls of the DLQ.
    let dead: string[] = [];
    for (let i = 0; i < 15 && dead.length === 0; i++) {
      const answer = await q.client.send(
        new ReceiveMessageCommand({ QueueUrl: q.dlqUrl, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }),
      );
      dead = (answer.Messages ?? []).map((m) => m.Body ?? "");
    }

    expect(dead).toEqual(["poison"]);
    expect(seen.filter((s) => s.body === "ok").map((s) => s.receive)).toEqual(["1"]);
    expect(seen.filter((s) => s.body === "poison").map((s) => s.receive)).toEqual(["1", "2"]);
    expect(seen[0]!.arn).toBe(q.queueArn);
  });
});
