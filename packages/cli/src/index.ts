/** @imvault/cli: the `imvault` command line (bin/imvault.ts) and its pieces for tests. */
export { main } from "./main.ts";
export { type Actions, runCli } from "./program.ts";
