import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/**
 * The module `imvault` runs: the bundle in packages/cli/dist (scripts/bundle-cli.ts; `npm ci` builds
 * it) while every source it was built from is unchanged since, else the TypeScript sources, so an
 * edit or a `git pull` without a rebuild runs the code as it is now, only slower to start.
 * @param {string} distDir where the bundle and its build.json are
 * @returns {string} the URL to import
 */
export function cliEntry(distDir = fileURLToPath(new URL("../dist", import.meta.url))) {
  return isBundleCurrent(distDir)
    ? pathToFileURL(resolve(distDir, "main.mjs")).href
    : new URL("../src/main.ts", import.meta.url).href;
}

/**
 * True when distDir holds a whole build (its build.json is written last) and no source of it was
 * modified after the build began, or is gone. One stat per source: small next to the start-up the
 * bundle saves (bench/README.md, "CLI start-up").
 * @param {string} distDir
 */
export function isBundleCurrent(distDir) {
  try {
    /** @type {{ builtAtMs: number, sources: string[] }} */
    const build = JSON.parse(readFileSync(resolve(distDir, "build.json"), "utf8"));
    return build.sources.every((source) => statSync(resolve(distDir, source)).mtimeMs <= build.builtAtMs);
  } catch {
    return false;
  }
}
