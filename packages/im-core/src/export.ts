/**
 * Exports for review (docs/export.md), an entry point of its own: its zip writer (yazl) is loaded only
 * by what exports, never by the Lambda handlers or the settings that import im-core's main entry.
 */

export * from "./export/export-job.ts";
export * from "./export/manifest.ts";
export { ExportTargetError } from "./export/output.ts";
export * from "./export/request.ts";
export * from "./export/run-export.ts";
export type * from "./export/source.ts";
