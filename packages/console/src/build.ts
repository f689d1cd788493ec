/**
 * Builds the console: web/main.tsx (Preact) with esbuild into hashed assets (`app-<hash>.js`,
 * `app-<hash>.css`, `icon-<hash>.svg`), the page that loads them, and `dist/site.json`, which holds
 * them all for the API to serve (packages/functions/src/http/console.ts): the API bundle inlines it,
 * so the deployed API serves the console with nothing else to deploy. `dist/www/` gets the same
 * files, to look at or measure. `npm ci` (the root `prepare` script) and `npm run build` run it.
 */
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { gzipSync } from "node:zlib";
import { type BuildOptions, build } from "esbuild";
import { CONFIG_PLACEHOLDER, type ConsoleSite } from "./site.ts";

const PACKAGE_DIR = new URL("../", import.meta.url).pathname;
export const CONSOLE_DIST = join(PACKAGE_DIR, "dist");

const CONTENT_TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

export function consoleBuildOptions(): BuildOptions {
  return {
    absWorkingDir: PACKAGE_DIR,
    entryPoints: { app: join(PACKAGE_DIR, "web/main.tsx") },
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["chrome120", "firefox121", "safari17"],
    jsx: "automatic",
    jsxImportSource: "preact",
    minify: true,
    // The page's assets live forever under their hash: a change is a new name.
    entryNames: "[name]-[hash]",
    assetNames: "[name]-[hash]",
    loader: { ".svg": "file" },
    outdir: "/assets",
    publicPath: "/assets",
    write: false,
    metafile: true,
    legalComments: "none",
    logLevel: "warning",
    define: { "process.env.NODE_ENV": '"production"' },
  };
}

function page(js: string, css: string, icon: string): string {
  // No inline script or style: the Content-Security-Policy allows neither.
  return [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    "<title>imvault console</title>",
    CONFIG_PLACEHOLDER,
    `<link rel="icon" href="/assets/${icon}" type="image/svg+xml">`,
    `<link rel="stylesheet" href="/assets/${css}">`,
    `<script type="module" src="/assets/${js}"></script>`,
    "</head>",
    "<body>",
    '<noscript><p class="noscript">The imvault console needs JavaScript.</p></noscript>',
    '<div id="app"></div>',
    "</body>",
    "</html>",
    "",
  ].join("\n");
}

export interface ConsoleBuild {
  site: ConsoleSite;
  /** Bytes of each file as served, and gzipped (level 9). */
  sizes: { name: string; bytes: number; gzipBytes: number }[];
}

/** Builds the site in memory, and writes `site.json` and `www/` under `outDir` unless it is null. */
export async function buildConsole(outDir: string | null = CONSOLE_DIST): Promise<ConsoleBuild> {
  const result = await build(consoleBuildOptions());
  const assets: ConsoleSite["assets"] = {};
  for (const file of result.outputFiles ?? []) {
    if (file.path.endsWith(".map")) continue;
    const name = file.path.replace(/^.*\/assets\//, "");
    const ext = name.slice(name.lastIndexOf("."));
    const contentType = CONTENT_TYPES[ext];
    if (contentType === undefined)
      throw new Error(`the console build made ${name}: no content type for ${ext}`);
    assets[name] = { contentType, body: file.text };
  }
  const find = (re: RegExp) => {
    const name = Object.keys(assets).find((n) => re.test(n));
    if (name === undefined) throw new Error(`the console build made no file like ${re}`);
    return name;
  };
  const html = page(find(/^app-[A-Z0-9]+\.js$/), find(/^app-[A-Z0-9]+\.css$/), find(/^icon-[A-Z0-9]+\.svg$/));
  const site: ConsoleSite = { html, assets };
  const sizes = [
    { name: "index.html", text: html },
    ...Object.entries(assets).map(([name, a]) => ({ name: `assets/${name}`, text: a.body })),
  ].map(({ name, text }) => ({
    name,
    bytes: Buffer.byteLength(text),
    gzipBytes: gzipSync(text, { level: 9 }).length,
  }));
  if (outDir !== null) {
    const www = join(outDir, "www");
    rmSync(www, { recursive: true, force: true });
    for (const { name } of sizes) {
      const path = join(www, name);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, name === "index.html" ? html : assets[name.slice("assets/".length)]!.body);
    }
    // Written last: the API imports it; a build that failed half-way leaves the last good one.
    writeFileSync(join(outDir, "site.json"), `${JSON.stringify(site)}\n`);
  }
  return { site, sizes };
}

/** Every source the console is built from: web/ and the shared model (src/model), tests left out. */
export function consoleSources(): string[] {
  const under = (dir: string) =>
    readdirSync(join(PACKAGE_DIR, dir), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && !e.name.endsWith(".test.ts"))
      .map((e) => join(e.parentPath, e.name));
  return [...under("web"), ...under("src/model")];
}

/** True when dist/site.json is newer than every source: the API serves what web/ says. */
export function isConsoleBuildCurrent(outDir = CONSOLE_DIST): boolean {
  let builtMs: number;
  try {
    builtMs = statSync(join(outDir, "site.json")).mtimeMs;
  } catch {
    return false;
  }
  return consoleSources().every((path) => statSync(path).mtimeMs <= builtMs);
}

if (import.meta.main) {
  const { sizes } = await buildConsole();
  const total = sizes.filter((s) => !s.name.endsWith(".svg"));
  for (const s of sizes) {
    console.log(
      `${relative(process.cwd(), join(CONSOLE_DIST, "www", s.name))}  ${s.bytes} bytes, ${s.gzipBytes} gzip`,
    );
  }
  console.log(
    `console page weight (HTML + JS + CSS): ${total.reduce((n, s) => n + s.bytes, 0)} bytes, ${total.reduce((n, s) => n + s.gzipBytes, 0)} gzip`,
  );
}
