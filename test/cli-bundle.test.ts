/**
 * The `imvault` CLI bundle (scripts/bundle-cli.ts), built afresh and run in its own Node process the
 * way the bin runs it: it archives an hour from the IM simulator into a local directory and `verify`
 * re-hashes what it stored. It boots the verifier's worker ahead of need, but its files are small
 * and are verified on the main thread: the worker runs from a bundle made with these options in
 * packages/im-core/src/verify/plain-worker.bundle.test.ts.
 */
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { addHours, hourOf } from "@imvault/im-core";
import { type Simulator, startSimulator, TEST_ADMIN, TEST_SDKAPPID, TEST_SECRET_KEY } from "@imvault/im-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliEntry } from "../packages/cli/bin/entry.js";
import { bundleCli, type CliBuildInfo } from "../scripts/bundle-cli.ts";
import { cleanEnv } from "./support/imvault-cli.ts";

const execFileAsync = promisify(execFile);
const root = fileURLToPath(new URL("..", import.meta.url));
// Inside the repository, so `imvault dev`'s external fauxqs would resolve from node_modules as it does
// for packages/cli/dist.
const OUT = join(root, "dist", "cli-under-test");

/** What bin/imvault.js does once it has chosen the bundle: import it, run main with the arguments. */
const RUN_BUNDLE = "const { main } = await import(process.argv[1]); await main(process.argv.slice(2));";

describe("the built imvault CLI bundle", () => {
  let build: CliBuildInfo;
  let sim: Simulator;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  const hour = addHours(hourOf(Date.now()), -4);

  const imvault = (args: string[]) =>
    execFileAsync(
      process.execPath,
      ["--input-type=module", "-e", RUN_BUNDLE, pathToFileURL(join(OUT, "main.mjs")).href, ...args],
      { env, timeout: 45_000 },
    );

  beforeAll(async () => {
    build = await bundleCli(OUT);
    sim = await startSimulator({ seed: "cli-bundle", processingDelayMinutes: 0, volume: 300 });
    dataDir = await mkdtemp(join(tmpdir(), "imvault-cli-bundle-"));
    env = cleanEnv({
      IM_SDKAPPID: String(TEST_SDKAPPID),
      IM_ADMIN: TEST_ADMIN,
      IM_SECRET_KEY: TEST_SECRET_KEY,
      IM_BASE_URL: sim.url,
      DATA_DIR: dataDir,
    });
  }, 60_000);

  afterAll(async () => {
    await sim?.close();
    await rm(OUT, { recursive: true, force: true });
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  it("records our sources, not node_modules, so the bin can tell whether the bundle is current", () => {
    expect(build.sources).toContain("../../packages/cli/src/main.ts");
    expect(build.sources).toContain("../../packages/im-core/src/archive/archive-hour.ts");
    expect(build.sources).toContain("../../packages/im-core/src/verify/plain-worker.ts");
    expect(build.sources.filter((s) => s.includes("node_modules"))).toEqual([]);
    expect(cliEntry(OUT)).toBe(pathToFileURL(join(OUT, "main.mjs")).href);
  });

  it("carries the verifier's worker as a file of its own beside the chunks that start it", () => {
    const chunks = readdirSync(OUT).filter((f) => f.endsWith(".mjs") && f !== "plain-worker.mjs");
    const starters = chunks.filter((f) =>
      readFileSync(join(OUT, f), "utf8").includes('"./plain-worker.mjs"'),
    );

    expect(existsSync(join(OUT, "plain-worker.mjs"))).toBe(true);
    expect(starters).toHaveLength(1);
  });

  it("carries the message table's worker (imvault index) as a file of its own beside the chunk that starts it", () => {
    const chunks = readdirSync(OUT).filter((f) => f.endsWith(".mjs") && f !== "table-worker.mjs");
    const starters = chunks.filter((f) =>
      readFileSync(join(OUT, f), "utf8").includes('"./table-worker.mjs"'),
    );

    expect(existsSync(join(OUT, "table-worker.mjs"))).toBe(true);
    expect(starters).toHaveLength(1);
  });

  it("archives both chat types of an hour and verifies them", async () => {
    const archived = await imvault(["archive", "--from", hour, "--to", hour]);

    expect(archived.stdout).toMatch(new RegExp(`${hour}\\s+C2C\\s+archived`));
    expect(archived.stdout).toMatch(new RegExp(`${hour}\\s+Group\\s+archived`));

    const verified = await imvault(["verify"]);
    expect(verified.stdout).toMatch(/^ok: 2 manifest\(s\), \d+ file\(s\)/m);
  });
});
