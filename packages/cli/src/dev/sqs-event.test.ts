import type { Message } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { succeededRecords, toSqsEvent } from "./sqs-event.ts";

const queue = { arn: "arn:aws:sqs:us-east-1:000000000000:imvault-jobs", region: "us-east-1" };

const message: Message = {
  MessageId: "m-1",
  ReceiptHandle: "rh-1",
  Body: '{"v":1,"chatType":"C2C","msgTime":"2024050101"}',
  MD5OfBody: "0123456789abcdef0123456789abcdef",
  Attributes: {
    ApproximateReceiveCount: "3",
    SentTimestamp: "1714500000000",
    SenderId: "AIDAEXAMPLE",
    ApproximateFirstReceiveTimestamp: "1714500000100",
  },
  MessageAttributes: {
    trace: { DataType: "String", StringValue: "abc" },
    blob: { DataType: "Binary", BinaryValue: new Uint8Array([1, 2, 3]) },
  },
};

describe("toSqsEvent", () => {
  it("builds the record Lambda's SQS event source would deliver", () => {
    const event = toSqsEvent([message], queue);

    expect(event.Records).toEqual([
      {
        messageId: "m-1",
        receiptHandle: "rh-1",
        body: message.Body,
        attributes: {
          ApproximateReceiveCount: "3",
          SentTimestamp: "1714500000000",
          SenderId: "AIDAEXAMPLE",
          ApproximateFirstReceiveTimestamp: "1714500000100",
        },
        messageAttributes: {
          trace: { dataType: "String", stringValue: "abc", stringListValues: [], binaryListValues: [] },
          blob: { dataType: "Binary", binaryValue: "AQID", stringListValues: [], binaryListValues: [] },
        },
        md5OfBody: "0123456789abcdef0123456789abcdef",
        eventSource: "aws:sqs",
        eventSourceARN: queue.arn,
        awsRegion: "us-east-1",
      },
    ]);
  });

  it("refuses a message without a receipt handle, which could never be deleted", () => {
    expect(() => toSqsEvent([{ ...message, ReceiptHandle: undefined }], queue)).toThrow(/ReceiptHandle/);
  });
});

describe("succeededRecords", () => {
  it("keeps the records not named in batchItemFailures", () => {
    const records = toSqsEvent(
      ["a", "b", "c"].map((id) => ({ ...message, MessageId: id, ReceiptHandle: `rh-${id}` })),
      queue,
    ).Records;

    expect(succeededRecords(records, [{ itemIdentifier: "b" }]).map((r) => r.messageId)).toEqual(["a", "c"]);
    expect(succeededRecords(records, undefined)).toHaveLength(3);
    expect(succeededRecords(records, [])).toHaveLength(3);
  });
});
