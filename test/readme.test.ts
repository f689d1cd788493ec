/**
 * The README's walkthrough works as written: `imvault dev` is started as `npm start` starts it, in a
 * fresh folder, and every line of the README's `sh walkthrough` block is run by bash in that folder,
 * as a user would paste it into a second terminal. Only the port differs (a free one, not 3000).
 */
import { spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, IMVAULT_BIN, startImvault } from "./support/imvault-cli.ts";
import { clearOfHourTurn, waitFor } from "./support/wait.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

async function walkthroughLines(): Promise<string[]> {
  const readme = await readFile(join(root, "README.md"), "utf8");
  const block = /```sh walkthrough\n([\s\S]*?)```/.exec(readme)?.[1];
  if (block === undefined) throw new Error("README.md has no ```sh walkthrough block");
  return block.split("\n").filter((line) => line.trim() !== "");
}

describe("the README walkthrough", () => {
  let dir: string;
  let dev: ReturnType<typeof startImvault>;
  let port: string;

  beforeAll(async () => {
    // The walkthrough asks for "the last hour that has ended": stay clear of an hour's turn.
    await clearOfHourTurn(90_000);
    dir = await mkdtemp(join(tmpdir(), "imvault-readme-"));
    // As `npm start` in the folder: DATA_DIR defaults to ./data there. Eight hours keep it quick.
    dev = startImvault(["dev"], cleanEnv({ PORT: "0", LOOKBACK_HOURS: "8" }), { cwd: dir });
    port = await waitFor(
      "the API URL",
      30_000,
      () => /^ {2}API {8}http:\/\/127\.0\.0\.1:(\d+)$/m.exec(dev.output())?.[1],
    );
    await waitFor("the first archiving run", 60_000, () =>
      /handled in .*: 16 archived/.test(dev.output()) ? true : undefined,
    );
  }, 180_000);

  afterAll(async () => {
    if (dev !== undefined && dev.exitCode === null) {
      dev.kill("SIGINT");
      await once(dev, "close");
    }
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("runs every line of the walkthrough successfully, with the answers the README describes", async () => {
    const lines = await walkthroughLines();
    // `npx imvault` from the project; here the folder is elsewhere, so call the same bin directly.
    const script = lines
      .map((line) => line.replaceAll("127.0.0.1:3000", `127.0.0.1:${port}`))
      .map((line) => line.replace(/^npx imvault /, `"${IMVAULT_BIN}" `))
      .map((line) => `${line}\necho "<<exit $?>>"`)
      .join("\n");

    const run = spawnSync("bash", ["-c", script], {
      cwd: dir,
      env: cleanEnv({}),
      encoding: "utf8",
      timeout: 60_000,
    });

    const out = run.stdout;
    const exits = [...out.matchAll(/<<exit (\d+)>>/g)].map((m) => Number(m[1]));
    expect(exits, run.stderr).toEqual(lines.map(() => 0));
    // Every line's output ends its line (curl's JSON too), so the next prompt starts on its own.
    expect(out).not.toMatch(/[^\n]<<exit/);
    expect(out).toContain('{"status":"ok"}');
    expect(out).toMatch(/"totals":\{"archived":12,"empty":0,"expired":0,"missing":0\}/);
    expect(out).toMatch(/"manifest":\{"version":1,"chatType":"C2C"/);
    expect(out).toMatch(/"downloads":\[\{"key":"raw\/chat_type=C2C\//);
    expect(out).toMatch(/^\{"SdkAppId":1400000000,"ChatType":"C2C","MsgTime":"\d{10}","MsgList":\[$/m);
    expect(out).toMatch(/"PreSigURLs":\[\{"ResourceID":1,.*"StatusText":"(normal|banned|missing)"/);
    expect(out).toMatch(/: 12 archived, 0 empty, 0 expired, 0 missing/);
    expect(out).toMatch(/every file matches its manifest/);
  });
});
