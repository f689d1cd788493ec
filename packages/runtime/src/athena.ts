/**
 * `@imvault/runtime/athena`: the API's searches in AWS, on Athena. Apart from lambda.ts for the same
 * reason as sqs.ts: with the AWS SDK left to the Lambda runtime (scripts/bundle.ts), an import that
 * esbuild keeps is loaded at cold start, and only the api handler searches.
 */
import { AthenaClient } from "@aws-sdk/client-athena";
import type { SearchService } from "@imvault/im-core";
import { AthenaSearches } from "@imvault/im-core/athena";
import { type AthenaConfig, loadAthenaConfig } from "./settings.ts";

export function makeAthenaSearches(config: AthenaConfig, client = new AthenaClient({})): SearchService {
  return new AthenaSearches({ client, workgroup: config.workgroup, database: config.database });
}

/** Athena searches when they are configured (always in AWS); undefined on one machine without them. */
export function athenaSearchesFromSettings(): SearchService | undefined {
  const config = loadAthenaConfig();
  return config === undefined ? undefined : makeAthenaSearches(config);
}
