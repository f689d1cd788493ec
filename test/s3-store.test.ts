import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { S3Client, UploadPartCommand } from "@aws-sdk/client-s3";
import { createS3Store } from "@imvault/im-core/s3";
import { describeArchiveStoreConformance } from "@imvault/im-core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalAws, localAwsClientConfig, startLocalAws } from "./support/fauxqs.ts";

let aws: LocalAws;

beforeAll(async () => {
  aws = await startLocalAws();
});

afterAll(async () => {
  await aws.stop();
});

// Default part size (5 MiB) and queue size: what production uses, and under fauxqs's 11 MiB body limit.
describeArchiveStoreConformance(
  "S3 through fauxqs",
  async () => ({
    store: createS3Store({ client: aws.s3, bucket: await aws.createBucket() }),
    cleanup: async () => {},
  }),
  {
    enforcesIfNoneMatch: false,
    knownGap: "fauxqs ignores If-None-Match on PutObject and overwrites",
    legalHolds: false,
  },
);

/** A client of its own that records what the store sent (with part sizes) and the UploadId it got. */
function recordingClient() {
  const client = new S3Client(localAwsClientConfig(aws.endpoint));
  const sent: Array<{ command: string; bytes?: number }> = [];
  let uploadId: string | undefined;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const body = (args.input as { Body?: unknown }).Body;
      sent.push({
        command: context.commandName ?? "?",
        ...(Buffer.isBuffer(body) ? { bytes: body.length } : {}),
      });
      const result = await next(args);
      if (context.commandName === "CreateMultipartUploadCommand") {
        uploadId = (result.output as { UploadId?: string }).UploadId;
      }
      return result;
    },
    { step: "initialize", name: "recordCommands" },
  );
  return { client, sent, uploadId: () => uploadId };
}

describe("S3 store through fauxqs: multipart specifics", () => {
  it("sends a 22 MiB stream as five parts of the 5 MiB default size and completes it", async () => {
    const { client, sent } = recordingClient();
    const store = createS3Store({ client, bucket: await aws.createBucket() });
    const chunks = Array.from({ length: 352 }, () => randomBytes(64 * 1024));

    const answer = await store.put("raw/big.gz", Readable.from(chunks));

    const parts = sent
      .filter((c) => c.command === "UploadPartCommand")
      .map((c) => c.bytes ?? 0)
      .sort((a, b) => b - a);
    expect(answer).toEqual({ size: 22 * 1024 * 1024 });
    expect(parts).toEqual([...Array(4).fill(5 * 1024 * 1024), 2 * 1024 * 1024]);
    expect(sent.map((c) => c.command)).toContain("CompleteMultipartUploadCommand");
    client.destroy();
  }, 60_000);

  it("a body failing after the first part aborts the multipart upload it had started", async () => {
    const { client, sent, uploadId } = recordingClient();
    const bucket = await aws.createBucket();
    const store = createS3Store({ client, bucket, partSizeBytes: 5 * 1024 * 1024 });
    const boom = new Error("md5 mismatch");
    let produced = 0;
    const body = new Readable({
      read() {
        if (produced >= 7 * 1024 * 1024) return void this.destroy(boom);
        produced += 256 * 1024;
        this.push(randomBytes(256 * 1024));
      },
    });

    await expect(store.put("raw/vetoed.gz", body)).rejects.toBe(boom);
    const partAfterAbort = client.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: "raw/vetoed.gz",
        UploadId: uploadId(),
        PartNumber: 2,
        Body: "x",
      }),
    );

    expect(uploadId()).toBeDefined();
    expect(sent.map((c) => c.command)).toContain("CreateMultipartUploadCommand");
    expect(sent.map((c) => c.command)).toContain("AbortMultipartUploadCommand");
    expect(sent.map((c) => c.command)).not.toContain("CompleteMultipartUploadCommand");
    await expect(partAfterAbort).rejects.toMatchObject({ name: "NoSuchUpload" });
    expect(await store.head("raw/vetoed.gz")).toBeUndefined();
    client.destroy();
  }, 60_000);
});
