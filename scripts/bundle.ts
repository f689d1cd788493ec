/**
 * Bundles each Lambda handler of packages/functions/src into one minified ESM file under
 * dist/functions/, the same way the deployment does, and prints each bundle's size. Used by CI (the
 * bundles must build) and by the API benchmark (bundle size and cold import time).
 *
 * Same options as `sst deploy`: SST bundles each handler itself with esbuild (platform node, format
 * esm, target esnext, mainFields module,main, keepNames, minify, no sourcemap in the package; the
 * banner below is SST's), and adds `nodejs.esbuild.external` (infra/functions.ts) to its external
 * list. RUNTIME_PROVIDED below and that list must stay equal: scripts/bundle.test.ts checks it.
 *
 * The AWS SDK is left out: the nodejs24.x runtime ships AWS SDK for JavaScript v3 (clients,
 * lib-storage, s3-request-presigner; its Node resolves ES module imports through NODE_PATH since
 * nodejs18.x), and leaving @aws-sdk/* and their @smithy/* to it is the standard practice. Bundling
 * it would fit under the size limit too (im-core is on valibot, which tree-shakes to a few KB; the
 * sizes each way are in bench/README.md, "Lambda bundles"). Trade-off: the deployed functions run the
 * runtime's SDK version, not package-lock's (older, updated by AWS on its own schedule, CommonJS
 * only); our calls (S3 Get/Head/Put/List, multipart Upload, presign, SQS SendMessageBatch) are
 * long-standing APIs. Drop the external to pin the SDK if a newer SDK feature is ever needed.
 *
 * The verifier's worker thread runs a module of its own (PLAIN_WORKER_ENTRY), which esbuild does not
 * find by itself (it does not follow `new Worker(new URL(…))`): it is a second entry point here, so
 * dist/functions/plain-worker.mjs sits beside the handlers that start it. SST bundles only each
 * handler, so the Archiver's package holds the worker only if sst.config.ts copies this file beside
 * the handler (its `copyFiles`); without it, the archiver verifies every file on its own thread.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { type BuildOptions, build } from "esbuild";

const root = new URL("..", import.meta.url).pathname;
export const HANDLERS = ["schedule", "archive", "api"] as const;
/** Where the handlers live (the `@imvault/functions` package). */
const FUNCTIONS_DIR = "packages/functions/src";

/** The verifier's worker, bundled as plain-worker.mjs beside the code that starts it (see above). */
export const PLAIN_WORKER_ENTRY = {
  in: join(root, "packages/im-core/src/verify/plain-worker.ts"),
  out: "plain-worker",
} as const;

/** The issue's target for each bundle (the .mjs alone; dependencies the runtime provides excluded). */
export const SIZE_LIMIT_BYTES = 1_000_000;

/** Left to the Lambda runtime (see above). Equal to `nodejs.esbuild.external` in infra/functions.ts. */
export const RUNTIME_PROVIDED = ["@aws-sdk/*", "@smithy/*"] as const;

/** SST's banner: CommonJS dependencies call require() and read __dirname; ESM has neither. */
export const SST_BANNER = [
  "import { createRequire as topLevelCreateRequire } from 'module';",
  "const require = topLevelCreateRequire(import.meta.url);",
  'import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"',
  "const __filename = topLevelFileUrlToPath(import.meta.url)",
  'const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))',
].join("\n");

/** The handlers present in packages/functions/src. */
function presentHandlers(): string[] {
  return HANDLERS.filter((h) => readdirSync(join(root, FUNCTIONS_DIR)).includes(`${h}.ts`));
}

/** The esbuild options of the deployment, for the handlers present in packages/functions/src, and the verifier's worker. */
export function bundleOptions(outdir: string): BuildOptions {
  return {
    entryPoints: [
      ...presentHandlers().map((h) => ({ in: join(root, FUNCTIONS_DIR, `${h}.ts`), out: h })),
      PLAIN_WORKER_ENTRY,
    ],
    outdir,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "esnext",
    mainFields: ["module", "main"],
    keepNames: true,
    minify: true,
    external: [...RUNTIME_PROVIDED],
    outExtension: { ".js": ".mjs" },
    // A separate .map for local debugging; SST packages none, and the .mjs size is the same.
    sourcemap: "linked",
    legalComments: "none",
    logLevel: "warning",
    banner: { js: SST_BANNER },
  };
}

/** Builds the bundles into `outdir`; answers each handler's bundle size in bytes. */
export async function bundleFunctions(
  outdir = join(root, "dist/functions"),
): Promise<Record<string, number>> {
  await build(bundleOptions(outdir));
  return Object.fromEntries(presentHandlers().map((h) => [h, statSync(join(outdir, `${h}.mjs`)).size]));
}

if (import.meta.main) {
  const sizes = await bundleFunctions();
  for (const [name, size] of Object.entries(sizes)) {
    const verdict = size < SIZE_LIMIT_BYTES ? "ok" : "MISSED";
    console.log(
      `dist/functions/${name}.mjs  ${(size / 1024).toFixed(1)} KiB  (${size} bytes; target < ${SIZE_LIMIT_BYTES}: ${verdict})`,
    );
  }
  const worker = statSync(join(root, "dist/functions", `${PLAIN_WORKER_ENTRY.out}.mjs`)).size;
  console.log(
    `dist/functions/${PLAIN_WORKER_ENTRY.out}.mjs  ${(worker / 1024).toFixed(1)} KiB  (the verifier's worker)`,
  );
}
