/**
 * Bundles each Lambda handler in functions/ into one minified ESM file under dist/functions/, the
 * same way the deployment does, and prints each bundle's size. Used by CI (the bundles must build)
 * and by the API benchmark (bundle size and cold import time).
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";

const root = new URL("..", import.meta.url).pathname;
export const HANDLERS = ["schedule", "archive", "api"] as const;

export async function bundleFunctions(outdir = join(root, "dist/functions")): Promise<Record<string, number>> {
  const present = HANDLERS.filter((h) => readdirSync(join(root, "functions")).includes(`${h}.ts`));
  await build({
    entryPoints: present.map((h) => join(root, "functions", `${h}.ts`)),
    outdir,
    bundle: true,
    platform: "node",
    target: "node24",
    format: "esm",
    outExtension: { ".js": ".mjs" },
    minify: true,
    sourcemap: "linked",
    legalComments: "none",
    logLevel: "warning",
    // Some dependencies are CommonJS and call require() for Node built-ins; give ESM a require.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  return Object.fromEntries(present.map((h) => [h, statSync(join(outdir, `${h}.mjs`)).size]));
}

if (import.meta.main) {
  const sizes = await bundleFunctions();
  for (const [name, size] of Object.entries(sizes)) {
    console.log(`dist/functions/${name}.mjs  ${(size / 1024).toFixed(1)} KiB`);
  }
}
