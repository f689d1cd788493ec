/** @imvault/cli: the `imvault` command line (bin/imvault.js) and its pieces for tests. */
export { main } from "./main.ts";
export { type Actions, runCli } from "./program.ts";
