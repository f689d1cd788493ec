#!/usr/bin/env -S node --max-semi-space-size=2
// --max-semi-space-size=2 (MiB): a small young generation. imvault's JavaScript heap stays small (the
// bytes live in Buffers and on the gunzip thread), and measured with `imvault archive` of a 1 GiB hour
// to S3 on a cold compile cache, the default let the peak RSS reach 195–226 MiB, this 186 MiB, at the
// same speed.
// Plain JavaScript on purpose. Node's compile cache (the start-up cache Node recommends for CLIs)
// keeps every module this process loads, our TypeScript included, already stripped and compiled,
// in os.tmpdir()/node-compile-cache (NODE_COMPILE_CACHE moves it). From the second run on, start-up
// skips the type stripper altogether: measured with `imvault archive`, importing the command fell
// from ~150 ms and +58 MiB to ~65 ms and +27 MiB. This file being TypeScript would load the stripper.
import { enableCompileCache } from "node:module";

enableCompileCache();
const { main } = await import("../src/main.ts");
await main();
