#!/usr/bin/env -S node --max-semi-space-size=2
// --max-semi-space-size=2 (MiB): a small young generation. imvault's JavaScript heap stays small (the
// bytes live in Buffers and on the gunzip thread), so a small young generation lowers the peak RSS of
// a large archive at the same speed (bench/README.md, "CLI memory").
// Plain JavaScript on purpose: it runs the bundle `npm ci` built when it is current (entry.js), and
// a TypeScript bin would load the type stripper even then. Node's compile cache (the start-up cache
// Node recommends for CLIs) keeps every module this process loads already compiled, and for the
// TypeScript sources already stripped, in os.tmpdir()/node-compile-cache (NODE_COMPILE_CACHE moves
// it), which makes a start from the sources much faster (bench/README.md, "CLI start-up").
import { enableCompileCache } from "node:module";
import { cliEntry } from "./entry.js";

enableCompileCache();
const { main } = await import(cliEntry());
await main();
