import { randomUUID } from "node:crypto";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { buildApp } from "fauxqs";

/**
 * fauxqs (S3 + SQS emulator) in this process, on loopback, for system tests. buildApp is fauxqs's
 * exported Fastify factory; its startFauxqs is never used because it listens on 0.0.0.0.
 */
export const TEST_REGION = "us-east-1";
/** Fixed fake credentials: fauxqs checks none, and tests must never pick up a developer's real ones. */
export const TEST_CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" } as const;

export interface CreateQueueOptions {
  /** Also create `<name>-dlq` and redrive there after this many receives. */
  dlq?: { maxReceiveCount: number };
  visibilityTimeoutSeconds?: number;
}

export interface LocalAws {
  /** e.g. http://127.0.0.1:40123 */
  endpoint: string;
  s3: S3Client;
  sqs: SQSClient;
  /** Creates a bucket (a fresh unique name by default) and answers its name. */
  createBucket(name?: string): Promise<string>;
  createQueue(
    name: string,
    options?: CreateQueueOptions,
  ): Promise<{ url: string; arn: string; dlqUrl?: string }>;
  stop(): Promise<void>;
}

/** Client settings for the emulator at `endpoint`; also for code under test that builds its own clients. */
export function localAwsClientConfig(endpoint: string) {
  return { endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS, forcePathStyle: true } as const;
}

/** Starts fauxqs on 127.0.0.1 and an ephemeral port; the caller must `stop()` it. */
export async function startLocalAws(): Promise<LocalAws> {
  const { app, endpoint } = await listenFauxqs();
  const config = localAwsClientConfig(endpoint);
  const s3 = new S3Client(config);
  const sqs = new SQSClient({ endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });

  async function queueArn(url: string): Promise<string> {
    const answer = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }),
    );
    const arn = answer.Attributes?.QueueArn;
    if (arn === undefined) throw new Error(`fauxqs answered no QueueArn for ${url}`);
    return arn;
  }

  async function createQueueNamed(name: string, attributes: Record<string, string>): Promise<string> {
    const answer = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    if (answer.QueueUrl === undefined) throw new Error(`fauxqs answered no QueueUrl for ${name}`);
    return answer.QueueUrl;
  }

  return {
    endpoint,
    s3,
    sqs,
    async createBucket(name = `imvault-test-${randomUUID()}`) {
      await s3.send(new CreateBucketCommand({ Bucket: name }));
      return name;
    },
    async createQueue(name, options = {}) {
      const attributes: Record<string, string> = {};
      if (options.visibilityTimeoutSeconds !== undefined) {
        attributes.VisibilityTimeout = String(options.visibilityTimeoutSeconds);
      }
      let dlqUrl: string | undefined;
      if (options.dlq) {
        dlqUrl = await createQueueNamed(`${name}-dlq`, {});
        attributes.RedrivePolicy = JSON.stringify({
          deadLetterTargetArn: await queueArn(dlqUrl),
          maxReceiveCount: options.dlq.maxReceiveCount,
        });
      }
      const url = await createQueueNamed(name, attributes);
      return { url, arn: await queueArn(url), ...(dlqUrl === undefined ? {} : { dlqUrl }) };
    },
    async stop() {
      s3.destroy();
      sqs.destroy();
      await app.close();
    },
  };
}

/** fauxqs listening on loopback; shared with the out-of-process server script. */
export async function listenFauxqs(): Promise<{ app: ReturnType<typeof buildApp>; endpoint: string }> {
  const app = buildApp({ logger: false });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error("fauxqs is not listening on TCP");
  return { app, endpoint: `http://127.0.0.1:${address.port}` };
}
