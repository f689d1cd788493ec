/**
 * `@imvault/im-core/warm-up`: starts the verifier's gunzip thread ahead of the first download, on its
 * own entry point so that a caller can boot the thread before loading (and without keeping alive in a
 * bundle) the rest of im-core.
 */
export { warmUpGunzipThread } from "./verify/worker-plain-side.ts";
