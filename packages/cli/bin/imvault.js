#!/usr/bin/env -S node --max-semi-space-size=2
// --max-semi-space-size=2 (MiB): a small young generation. imvault's JavaScript heap stays small (the
// bytes live in Buffers and on the gunzip thread), and measured with `imvault archive` of a 1 GiB hour
// to S3 on a cold compile cache, the default let the peak RSS reach 195–226 MiB, this 186 MiB, at the
// same speed.
// Plain JavaScript on purpose: it runs the bundle `npm ci` built when it is current (entry.js), and
// a TypeScript bin would load the type stripper even then. Node's compile cache (the start-up cache
// Node recommends for CLIs) keeps every module this process loads already compiled, and for the
// TypeScript sources already stripped, in os.tmpdir()/node-compile-cache (NODE_COMPILE_CACHE moves
// it): from the sources, importing the archive command fell from ~150 ms to ~65 ms with it.
import { enableCompileCache } from "node:module";
import { cliEntry } from "./entry.js";

enableCompileCache();
const { main } = await import(cliEntry());
await main();
