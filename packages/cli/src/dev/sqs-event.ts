import type { Message } from "@aws-sdk/client-sqs";
import type { SQSEvent, SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from "aws-lambda";

/** Where the records came from, as Lambda's event source mapping states it. */
export interface QueueIdentity {
  arn: string;
  region: string;
}

/**
 * The SQSEvent Lambda's event source mapping would deliver for messages from ReceiveMessage:
 * same field names and casing (camelCase records, system attributes as strings, message attributes
 * with stringValue / binaryValue as base64).
 */
export function toSqsEvent(messages: readonly Message[], queue: QueueIdentity): SQSEvent {
  return { Records: messages.map((m) => toSqsRecord(m, queue)) };
}

export function toSqsRecord(message: Message, queue: QueueIdentity): SQSRecord {
  if (message.MessageId === undefined || message.ReceiptHandle === undefined) {
    throw new Error("an SQS message without MessageId or ReceiptHandle cannot become a Lambda record");
  }
  const a = message.Attributes ?? {};
  const attributes: SQSRecordAttributes = {
    ApproximateReceiveCount: a.ApproximateReceiveCount ?? "1",
    SentTimestamp: a.SentTimestamp ?? "",
    SenderId: a.SenderId ?? "",
    ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? "",
    ...(a.AWSTraceHeader === undefined ? {} : { AWSTraceHeader: a.AWSTraceHeader }),
    ...(a.SequenceNumber === undefined ? {} : { SequenceNumber: a.SequenceNumber }),
    ...(a.MessageGroupId === undefined ? {} : { MessageGroupId: a.MessageGroupId }),
    ...(a.MessageDeduplicationId === undefined ? {} : { MessageDeduplicationId: a.MessageDeduplicationId }),
    ...(a.DeadLetterQueueSourceArn === undefined
      ? {}
      : { DeadLetterQueueSourceArn: a.DeadLetterQueueSourceArn }),
  };
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      dataType: value.DataType ?? "String",
      ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }),
      ...(value.BinaryValue === undefined
        ? {}
        : { binaryValue: Buffer.from(value.BinaryValue).toString("base64") }),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((b) => Buffer.from(b).toString("base64")),
    };
  }
  return {
    messageId: message.MessageId,
    receiptHandle: message.ReceiptHandle,
    body: message.Body ?? "",
    attributes,
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? "",
    ...(message.MD5OfMessageAttributes === undefined
      ? {}
      : { md5OfMessageAttributes: message.MD5OfMessageAttributes }),
    eventSource: "aws:sqs",
    eventSourceARN: queue.arn,
    awsRegion: queue.region,
  };
}

/** Receipt handles of the records the handler did not report as failed: these are deleted. */
export function succeededRecords(
  records: readonly SQSRecord[],
  failures: readonly { itemIdentifier: string }[] | undefined,
): SQSRecord[] {
  const failed = new Set((failures ?? []).map((f) => f.itemIdentifier));
  return records.filter((r) => !failed.has(r.messageId));
}
