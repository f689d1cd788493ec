/**
 * The data shapes imvault stores and answers, as valibot schemas: one source for the TypeScript types
 * (v.InferOutput), the validation, and the API's OpenAPI document.
 */
export * from "./api.ts";
export * from "./archive-view.ts";
export * from "./common.ts";
export * from "./cos-sig.ts";
export * from "./coverage.ts";
export * from "./digest.ts";
export * from "./hold.ts";
export * from "./manifest.ts";
export * from "./media.ts";
