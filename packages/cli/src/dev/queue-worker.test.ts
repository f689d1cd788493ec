import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSEvent } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { type BatchReport, startQueueWorker } from "./queue-worker.ts";

const queue = { arn: "arn:aws:sqs:us-east-1:000000000000:jobs", region: "us-east-1" };

/** An SQS client that hands out one batch, then long-polls (empty) until aborted, and records deletes. */
function fakeSqs(batch: Message[]) {
  const deleted: string[] = [];
  const receives: ReceiveMessageCommand["input"][] = [];
  let handedOut = false;
  const client = {
    async send(command: unknown, options?: { abortSignal?: AbortSignal }) {
      if (command instanceof ReceiveMessageCommand) {
        receives.push(command.input);
        if (!handedOut) {
          handedOut = true;
          return { Messages: batch };
        }
        await new Promise((resolve) =>
          options?.abortSignal?.addEventListener("abort", resolve, { once: true }),
        );
        throw Object.assign(new Error("aborted"), { name: "AbortError" });
      }
      if (command instanceof DeleteMessageBatchCommand) {
        deleted.push(...(command.input.Entries ?? []).map((e) => e.ReceiptHandle!));
        return { Successful: [], Failed: [] };
      }
      throw new Error("unexpected command");
    },
  };
  return { client: client as unknown as SQSClient, deleted, receives };
}

const messages: Message[] = ["a", "b", "c"].map((id) => ({
  MessageId: id,
  ReceiptHandle: `rh-${id}`,
  Body: "{}",
  Attributes: { ApproximateReceiveCount: "1" },
}));

describe("the dev queue worker", () => {
  it("long-polls, deletes what the handler did not list as failed, leaves the failed ones for redelivery", async () => {
    const sqs = fakeSqs(messages);
    const events: SQSEvent[] = [];
    let remaining = -1;
    const reports: BatchReport[] = [];
    let reported: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      reported = resolve;
    });

    const worker = startQueueWorker({
      client: sqs.client,
      queueUrl: "http://q",
      queue,
      functionName: "archive",
      timeoutMs: 60_000,
      handler: async (event, context) => {
        events.push(event);
        remaining = context.getRemainingTimeInMillis();
        return { batchItemFailures: [{ itemIdentifier: "b" }] };
      },
      onBatch: (report) => {
        reports.push(report);
        reported();
      },
    });
    await done;
    await worker.stop();

    expect(sqs.receives[0]).toMatchObject({
      QueueUrl: "http://q",
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 20,
    });
    expect(events[0]!.Records.map((r) => r.eventSource)).toEqual(["aws:sqs", "aws:sqs", "aws:sqs"]);
    expect(remaining).toBeGreaterThan(0);
    expect(remaining).toBeLessThanOrEqual(60_000);
    expect(sqs.deleted).toEqual(["rh-a", "rh-c"]);
    expect(reports[0]!.failed.map((r) => r.messageId)).toEqual(["b"]);
  });

  it("deletes nothing when the handler throws: the whole batch comes back, as in Lambda", async () => {
    const sqs = fakeSqs(messages);
    let reported: (r: BatchReport) => void = () => {};
    const done = new Promise<BatchReport>((resolve) => {
      reported = resolve;
    });

    const worker = startQueueWorker({
      client: sqs.client,
      queueUrl: "http://q",
      queue,
      functionName: "archive",
      timeoutMs: 60_000,
      handler: async () => {
        throw new Error("crash");
      },
      onBatch: reported,
    });
    const report = await done;
    await worker.stop();

    expect(sqs.deleted).toEqual([]);
    expect(report.failed).toHaveLength(3);
    expect((report.error as Error).message).toBe("crash");
  });
});
