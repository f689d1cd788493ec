/**
 * `@imvault/runtime`: how imvault runs, shared by the Lambdas and the CLI. Settings come from SST's
 * links in AWS or the environment on one machine; the factories here need neither the AWS SDK nor
 * Powertools, so a CLI on a local store loads neither. The AWS-only parts have their own entry
 * points: `@imvault/runtime/lambda` (Powertools adapters, the handlers' deps), `/s3`, `/sqs`.
 */
export * from "./archive-config.ts";
export * from "./clients.ts";
export * from "./media-config.ts";
export * from "./settings.ts";
