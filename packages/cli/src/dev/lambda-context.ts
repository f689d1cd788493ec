import { randomUUID } from "node:crypto";
import type { Context } from "aws-lambda";

/**
 * A Lambda-like invocation context: the handlers read getRemainingTimeInMillis to stop cleanly
 * before their deadline, exactly as in AWS.
 */
export function lambdaContext(
  functionName: string,
  timeoutMs: number,
  options: { now?: () => number; region?: string } = {},
): Context {
  const now = options.now ?? Date.now;
  const deadline = now() + timeoutMs;
  const region = options.region ?? "local";
  const unsupported = () => {
    throw new Error("callback-style completion is not supported: return a promise");
  };
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${functionName}`,
    memoryLimitInMB: "1024",
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => Math.max(0, deadline - now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}
