import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { buildApp } from "fauxqs";

/**
 * SQS for `imvault dev`: fauxqs (an SQS/SNS/S3 emulator) in this process, on loopback only. Its
 * startFauxqs helper is not used because it listens on 0.0.0.0.
 */
export const LOCAL_REGION = "us-east-1";
/** fauxqs checks no credentials; fixed fake ones keep a developer's real ones out of local requests. */
export const LOCAL_CREDENTIALS = { accessKeyId: "imvault-dev", secretAccessKey: "imvault-dev" } as const;

export interface LocalQueues {
  endpoint: string;
  client: SQSClient;
  queueUrl: string;
  queueArn: string;
  dlqUrl: string;
  close(): Promise<void>;
}

export interface LocalQueuesOptions {
  name: string;
  visibilityTimeoutSeconds: number;
  /** Receives before a message moves to `<name>-dlq`. */
  maxReceiveCount: number;
}

export async function startLocalQueues(options: LocalQueuesOptions): Promise<LocalQueues> {
  const app = buildApp({ logger: false, defaultRegion: LOCAL_REGION });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === "string") {
    await app.close();
    throw new Error("the local SQS emulator is not listening on TCP");
  }
  const endpoint = `http://127.0.0.1:${address.port}`;
  const client = new SQSClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  try {
    const create = async (name: string, attributes: Record<string, string>) => {
      const answer = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
      if (answer.QueueUrl === undefined) throw new Error(`the SQS emulator answered no URL for ${name}`);
      return answer.QueueUrl;
    };
    const arnOf = async (url: string) => {
      const answer = await client.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }),
      );
      const arn = answer.Attributes?.QueueArn;
      if (arn === undefined) throw new Error(`the SQS emulator answered no ARN for ${url}`);
      return arn;
    };
    const dlqUrl = await create(`${options.name}-dlq`, { MessageRetentionPeriod: "1209600" });
    const queueUrl = await create(options.name, {
      VisibilityTimeout: String(options.visibilityTimeoutSeconds),
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: await arnOf(dlqUrl),
        maxReceiveCount: options.maxReceiveCount,
      }),
    });
    const queueArn = await arnOf(queueUrl);
    return {
      endpoint,
      client,
      queueUrl,
      queueArn,
      dlqUrl,
      async close() {
        client.destroy();
        await app.close();
      },
    };
  } catch (error) {
    client.destroy();
    await app.close();
    throw error;
  }
}
