/**
 * Bundles the `imvault` command line into packages/cli/dist: ESM, split per command (a command loads
 * only its own code), with a build.json naming the sources it was built from. `npm ci` builds it
 * (the root `prepare` script), and so does `npm run build`. The bin runs it while every source is
 * unchanged since, else the TypeScript sources themselves (packages/cli/bin/entry.js).
 *
 * Why: from the bundle, the command starts faster than from the sources, most of all on a first run
 * after an install (no module is stripped of its types and compiled, and the type stripper is not
 * loaded), and its peak RSS is lower then; bench/README.md, "CLI start-up", has the figures.
 *
 * The verifier's worker is an entry point of its own (PLAIN_WORKER_ENTRY, as for the Lambdas), so
 * packages/cli/dist/plain-worker.mjs sits beside the chunks that start it.
 */
import { rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { type BuildOptions, build, type Plugin } from "esbuild";
import { PLAIN_WORKER_ENTRY, SST_BANNER } from "./bundle.ts";

/** The message table's worker (`imvault index`), table-worker.mjs beside the chunks that start it. */
const TABLE_WORKER_ENTRY = {
  in: join(new URL("..", import.meta.url).pathname, "packages/im-core/src/table/table-worker.ts"),
  out: "table-worker",
} as const;

/**
 * The message table's DuckDB entry as a file of its own, duckdb.mjs: the API handler in this bundle
 * (`imvault dev`) imports it by a name made at run time (packages/functions/src/api.ts), and must
 * get the bundle's copy of im-core with it, not the sources'.
 */
const DUCKDB_ENTRY = {
  in: join(new URL("..", import.meta.url).pathname, "packages/im-core/src/duckdb.ts"),
  out: "duckdb",
} as const;

const root = new URL("..", import.meta.url).pathname;
export const CLI_OUTDIR = join(root, "packages/cli/dist");

/**
 * node:http through process.getBuiltinModule (to esbuild, a CommonJS module whose properties are read
 * where they are used), not through `import`: the ES module namespace of node:http reads every export
 * up front, and its `WebSocket` getter loads undici (64 modules) that nothing here uses. The AWS
 * SDK's HTTP handler imports node:http for an http:// endpoint (an S3 emulator, MinIO), so that is
 * where it shows (bench/README.md, "CLI start-up"). Only node:http: for the other built-ins, whose
 * namespaces' getters load what imvault loads anyway, it made no difference.
 */
const httpViaGetBuiltinModule: Plugin = {
  name: "http-via-getBuiltinModule",
  setup(build) {
    build.onResolve({ filter: /^(node:)?http$/ }, ({ kind }) =>
      kind === "import-statement" || kind === "dynamic-import"
        ? { path: "node:http", namespace: "node-builtin" }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "node-builtin" }, ({ path }) => ({
      contents: `module.exports = process.getBuiltinModule(${JSON.stringify(path)});`,
      loader: "js",
    }));
  },
};

export function cliBundleOptions(outdir: string): BuildOptions {
  return {
    absWorkingDir: root,
    entryPoints: [
      { in: join(root, "packages/cli/src/main.ts"), out: "main" },
      PLAIN_WORKER_ENTRY,
      TABLE_WORKER_ENTRY,
      DUCKDB_ENTRY,
    ],
    outdir,
    bundle: true,
    splitting: true,
    platform: "node",
    format: "esm",
    target: "node24",
    mainFields: ["module", "main"],
    outExtension: { ".js": ".mjs" },
    // Only `imvault dev` uses the SQS emulator; it stays a package, resolved from node_modules. DuckDB
    // (query, search) loads a native library: it cannot be bundled.
    external: ["fauxqs", "@duckdb/node-api"],
    plugins: [httpViaGetBuiltinModule],
    sourcemap: "linked",
    legalComments: "none",
    logLevel: "warning",
    metafile: true,
    // The Lambdas' banner: the CommonJS dependencies bundled here (commander, cli-table3, …) call require().
    banner: { js: SST_BANNER },
  };
}

/** What entry.js checks: the build's start, and each source (not under node_modules) relative to outdir. */
export interface CliBuildInfo {
  builtAtMs: number;
  sources: string[];
}

export async function bundleCli(outdir = CLI_OUTDIR): Promise<CliBuildInfo> {
  // Taken before esbuild reads anything, so a source saved during the build counts as newer.
  const builtAtMs = Date.now();
  // A clean directory: no chunk of an older build left behind, and no build.json until this one is whole.
  rmSync(outdir, { recursive: true, force: true });
  const { metafile } = await build(cliBundleOptions(outdir));
  const sources = Object.keys(metafile!.inputs)
    // Files only: not node_modules, nor a plugin's module (namespace:path, e.g. node-builtin:node:http).
    .filter((input) => !/(^|\/)node_modules\//.test(input) && !/^[a-z-]+:/.test(input))
    .map((input) => relative(outdir, join(root, input)))
    .sort();
  const info: CliBuildInfo = { builtAtMs, sources };
  // Written last: a build that failed half-way leaves none, so the bin runs the sources.
  writeFileSync(join(outdir, "build.json"), `${JSON.stringify(info, null, 1)}\n`);
  return info;
}

if (import.meta.main) {
  const { sources } = await bundleCli();
  console.log(
    `${relative(root, CLI_OUTDIR)}/main.mjs  imvault CLI bundle, from ${sources.length} source files`,
  );
}
