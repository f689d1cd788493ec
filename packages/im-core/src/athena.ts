/** `@imvault/im-core/athena`: the search port over Athena (loads the AWS SDK for Athena). */

export * from "./table/athena-export-source.ts";
export * from "./table/athena-searches.ts";
