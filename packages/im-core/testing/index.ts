/**
 * `@imvault/im-core/testing`: the test kit shared by every package's tests (fake clocks, scripted
 * Tencent answers, history-file factories, the store conformance suite). Never imported by sources.
 */
export * from "./athena.ts";
export * from "./evidence.ts";
export * from "./export.ts";
export * from "./fs-errors.ts";
export * from "./history.ts";
export * from "./im.ts";
export * from "./media.ts";
export * from "./store-conformance.ts";
export * from "./table.ts";
