/**
 * The clients that need neither the AWS SDK nor Powertools: the IM client and the local store. Kept
 * apart from s3.ts and lambda.ts so that the CLI on a local store loads only these: the S3 SDK alone
 * is a large part of a run's start-up time and memory (bench/README.md, "CLI start-up").
 */
import {
  type Logger as CoreLogger,
  createLocalStore,
  createLocalUrlSigner,
  ImClient,
  type LocalArchiveStore,
  type RateLimit,
} from "@imvault/im-core";
import type { ImConfig, StoreConfig } from "./settings.ts";

export function makeLocalStore(config: Extract<StoreConfig, { kind: "local" }>): LocalArchiveStore {
  // With a public URL and a signing key (imvault dev sets both), download URLs are HMAC-signed
  // links that the local server serves; without them the local store has no URLs to give.
  const urlFor =
    config.publicUrl !== undefined && config.urlSigningKey !== undefined
      ? createLocalUrlSigner({ baseUrl: config.publicUrl, secret: config.urlSigningKey }).urlFor
      : undefined;
  return createLocalStore({ root: config.dataDir, ...(urlFor === undefined ? {} : { urlFor }) });
}

/** `rateLimit`: a limit shared with other processes (the CLI's on a DATA_DIR); default the client's own. */
export function makeImClient(config: ImConfig, logger: CoreLogger, rateLimit?: RateLimit): ImClient {
  return new ImClient({
    sdkAppId: config.sdkAppId,
    identifier: config.identifier,
    secretKey: config.secretKey,
    region: config.region,
    ...(config.baseUrl === undefined ? {} : { baseUrl: config.baseUrl }),
    ratePerSecond: config.ratePerSecond,
    ...(rateLimit === undefined ? {} : { rateLimit }),
    logger,
  });
}
