/**
 * The built console (dist/site.json, made by src/build.ts when `npm ci` or `npm run build` runs), for
 * the API to serve. Bundlers inline it, so the deployed API function carries the console itself.
 */
import site from "../dist/site.json" with { type: "json" };
import type { ConsoleSite } from "./site.ts";

export * from "./site.ts";

export const consoleSite: ConsoleSite = site;
