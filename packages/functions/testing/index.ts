/** `@imvault/functions/testing`: API Gateway v2 events shaped as AWS delivers them, for tests. */
export * from "./apigw-event.ts";
