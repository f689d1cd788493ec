/**
 * `@imvault/runtime/athena`: the API's searches in AWS, on Athena. Apart from lambda.ts because only
 * the api handler searches. The Athena SDK is loaded at the first search, not at the cold start
 * (im-core's athenaSdk): the client here is made then too.
 */
import type { AthenaClient } from "@aws-sdk/client-athena";
import type { SearchService } from "@imvault/im-core";
import { AthenaSearches, type AthenaSender, athenaSdk } from "@imvault/im-core/athena";
import { type AthenaConfig, loadAthenaConfig } from "./settings.ts";

/** An AthenaClient made at its first call (the SDK's credentials and region from the environment). */
export function lazyAthenaClient(): AthenaSender {
  let client: Promise<AthenaClient> | undefined;
  const send = async (command: Parameters<AthenaSender["send"]>[0]) => {
    client ??= athenaSdk().then((m) => new m.AthenaClient({}));
    // AthenaClient.send takes each of the adapter's commands; its overloads are generic.
    return (await client).send(command as Parameters<AthenaClient["send"]>[0]);
  };
  return { send } as AthenaSender;
}

export function makeAthenaSearches(config: AthenaConfig, client = lazyAthenaClient()): SearchService {
  return new AthenaSearches({ client, workgroup: config.workgroup, database: config.database });
}

/** Athena searches when they are configured (always in AWS); undefined on one machine without them. */
export function athenaSearchesFromSettings(): SearchService | undefined {
  const config = loadAthenaConfig();
  return config === undefined ? undefined : makeAthenaSearches(config);
}
