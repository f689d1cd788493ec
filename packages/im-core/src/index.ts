/**
 * imvault's library. Everything is also importable by path (`@imvault/im-core/<dir>/<file>.ts`);
 * this is the short list of what callers usually need.
 */

export { type ArchiveDeps, type ArchiveResult, archiveHour } from "./archive/archive-hour.ts";
export { coverage } from "./archive/coverage.ts";
export { type HourJob, parseJob } from "./archive/job.ts";
export { manifestKey, rawKey } from "./archive/layout.ts";
export { type Manifest, readManifest } from "./archive/manifest.ts";
export { defaultWindow, plan } from "./archive/plan.ts";
export { runSchedule } from "./archive/schedule.ts";
export { verifyArchive } from "./archive/verify-archive.ts";
export * from "./errors.ts";
export { mediaUrls } from "./history/media.ts";
export { readGzipHistory, readHistory } from "./history/parser.ts";
export { getCosSig, getHistory } from "./im/calls.ts";
export { ImClient, type ImClientOptions } from "./im/client.ts";
export type { ChatType, CosSigResult, HistoryFile, Region } from "./im/types.ts";
export { genUserSig, verifyUserSig } from "./im/usersig.ts";
export { createLocalStore } from "./store/local-store.ts";
export type { ArchiveStore } from "./store/port.ts";
export { createS3Store } from "./store/s3-store.ts";
export * from "./time/msgtime.ts";
export { createVerifier } from "./verify/verifier.ts";
