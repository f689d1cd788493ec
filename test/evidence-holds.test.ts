/**
 * `imvault hold` on a DATA_DIR: a hold on a window is placed on every object of it, listed, recorded
 * under holds/ and sealed into the chain at once; released, it is recorded too, and verify passes.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { addHours, createLocalStore, digestKey, hourOf, manifestKey, readDigest } from "@imvault/im-core";
import { type Simulator, startSimulator } from "@imvault/im-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, runImvault } from "./support/imvault-cli.ts";
import { clearOfHourTurn } from "./support/wait.ts";

const SDKAPPID = 1400012379;
const SECRET = "evidence-holds-secret-key";

describe("imvault hold on a DATA_DIR", () => {
  let sim: Simulator;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const hour = addHours(hourOf(Date.now()), -4);

  beforeAll(async () => {
    await clearOfHourTurn(30_000);
    sim = await startSimulator({
      sdkAppId: SDKAPPID,
      secretKey: SECRET,
      seed: "holds",
      processingDelayMinutes: 0,
      volume: 20,
    });
    dir = await mkdtemp(join(tmpdir(), "imvault-holds-"));
    env = cleanEnv({
      IM_SDKAPPID: String(SDKAPPID),
      IM_SECRET_KEY: SECRET,
      IM_BASE_URL: sim.url,
      DATA_DIR: dir,
    });
    const run = await runImvault(["archive", "--no-media", "--no-index", "--from", hour, "--to", hour], env);
    expect(run.code, run.stderr).toBe(0);
  });
  afterAll(async () => {
    await sim?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("places a hold on the window's objects, lists it, seals its record, and releases it", async () => {
    const add = await runImvault(
      ["hold", "add", "--from", hour, "--to", hour, "--chat-type", "C2C", "--reason", "matter 42"],
      env,
    );
    const id = /placed hold (\S+) on (\d+) object\(s\)/.exec(add.stdout);
    const list = await runImvault(["hold", "list"], env);
    const markers = await readdir(join(dir, ".imvault", "holds", "objects"), { recursive: true });
    const release = await runImvault(["hold", "release", id?.[1] ?? "", "--reason", "closed"], env);
    const json = await runImvault(["hold", "list", "--json"], env);
    const verify = await runImvault(["verify"], env);

    expect(add.code, add.stderr).toBe(0);
    expect(Number(id?.[2])).toBe(2); // the C2C manifest and its raw file
    expect(markers).toContain(join(...manifestKey("C2C", hour).split("/")));
    expect(add.stdout).toMatch(/^digest: sealed digests\/000000000002\.json \(1 object\(s\)/m);
    expect(list.stdout).toMatch(
      new RegExp(`${id?.[1]}\\s+active\\s+${hour}\\.\\.${hour}\\s+C2C\\s+2\\s+\\S+\\s+matter 42`),
    );
    const sealed = (await readDigest(createLocalStore({ root: dir }), digestKey(2)))?.digest?.objects.map(
      (o) => o.key,
    );
    expect(sealed).toEqual([`holds/${id?.[1]}.json`]);
    expect(release.code, release.stderr).toBe(0);
    expect(release.stdout).toContain(`released hold ${id?.[1]}: 2 object(s) no longer held`);
    expect(JSON.parse(json.stdout).holds[0]).toMatchObject({ id: id?.[1], keys: 2, reason: "matter 42" });
    expect(JSON.parse(json.stdout).holds[0].releasedAt).toBeDefined();
    expect(JSON.parse(await readFile(join(dir, "holds", `${id?.[1]}.release.json`), "utf8"))).toMatchObject({
      action: "release",
      reason: "closed",
    });
    expect(verify.code, verify.stdout).toBe(0);
  });

  it("holds a user's messages through the message table: their hour's raw file, table file and manifest", async () => {
    const index = await runImvault(["index", "--from", hour, "--to", hour, "--chat-type", "C2C"], env);
    const search = await runImvault(
      ["search", "--from", hour, "--to", hour, "--limit", "1", "--format", "ndjson"],
      env,
    );
    const user = String(JSON.parse(search.stdout.split("\n")[0] ?? "null")?.from_account);

    const add = await runImvault(
      ["hold", "add", "--user", user, "--chat-type", "C2C", "--reason", "m 7"],
      env,
    );
    const json = await runImvault(["hold", "list", "--json"], env);
    const nobody = await runImvault(["hold", "add", "--user", "no-such-account"], env);

    expect(index.code, index.stderr).toBe(0);
    expect(add.code, add.stderr).toBe(0);
    const placed = /placed hold (\S+) on (\d+) object\(s\) of user (\S+)/.exec(add.stdout);
    expect(placed?.[3]).toBe(`${user}`);
    const hold = JSON.parse(json.stdout).holds.find((h: { id: string }) => h.id === placed?.[1]);
    expect(hold).toMatchObject({ scope: { kind: "user", user, chatTypes: ["C2C"] }, keys: 3, reason: "m 7" });
    const store = createLocalStore({ root: dir });
    expect(await store.legalHold(manifestKey("C2C", hour))).toBe(true);
    expect(nobody.code).toBe(2);
    expect(nobody.stderr).toContain("nothing is archived of that user");
  });

  it("refuses a window with nothing archived (exit 2), placing nothing", async () => {
    const run = await runImvault(["hold", "add", "--from", "2020010100", "--to", "2020010101"], env);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain("nothing is archived in that window: no hold placed");
  });
});
