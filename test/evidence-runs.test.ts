/**
 * Digests as real runs make them: two `imvault archive` runs at once make one chain, a run killed with
 * kill -9 between its commit and its digest has its manifest sealed by the next digest, `status`
 * shows the head and the last verification, and `verify` works on a bucket and on a downloaded copy
 * of it, with the exported public key alone.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { DeleteObjectCommand } from "@aws-sdk/client-s3";
import {
  addHours,
  createLocalStore,
  digestKey,
  hourOf,
  localSigner,
  manifestKey,
  readDigest,
  readStored,
  sealDigest,
  systemClock,
} from "@imvault/im-core";
import { createS3Store } from "@imvault/im-core/s3";
import { type Simulator, startSimulator } from "@imvault/im-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalAws, startLocalAws, TEST_CREDENTIALS, TEST_REGION } from "./support/fauxqs.ts";
import { cleanEnv, runImvault, startImvault } from "./support/imvault-cli.ts";
import { clearOfHourTurn, waitFor } from "./support/wait.ts";

const SDKAPPID = 1400012378;
const SECRET = "evidence-runs-secret-key";

describe("digests as real runs make them", () => {
  let sim: Simulator;
  let scratch: string;
  const hour = (back: number) => addHours(hourOf(Date.now()), -back);

  beforeAll(async () => {
    await clearOfHourTurn(60_000);
    sim = await startSimulator({
      sdkAppId: SDKAPPID,
      secretKey: SECRET,
      seed: "evidence-runs",
      processingDelayMinutes: 0,
      volume: 20,
    });
    scratch = await mkdtemp(join(tmpdir(), "imvault-evidence-runs-"));
  });
  afterAll(async () => {
    await sim?.close();
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
  });

  const envFor = (extra: Record<string, string>) =>
    cleanEnv({ IM_SDKAPPID: String(SDKAPPID), IM_SECRET_KEY: SECRET, IM_BASE_URL: sim.url, ...extra });

  /** The digests in `dir`, each with the key it names as previous. */
  async function chainIn(dir: string): Promise<{ key: string; previous: string | null }[]> {
    const names = (await readdir(join(dir, "digests")).catch(() => [])).sort();
    return Promise.all(
      names.map(async (name) => {
        const digest = JSON.parse(await readFile(join(dir, "digests", name), "utf8")) as {
          previousDigestKey: string | null;
        };
        return { key: `digests/${name}`, previous: digest.previousDigestKey };
      }),
    );
  }

  it("two imvault archive runs at once on one DATA_DIR make one chain, not a fork", async () => {
    const dir = join(scratch, "concurrent");
    const env = envFor({ DATA_DIR: dir });

    const runs = await Promise.all([
      runImvault(["archive", "--no-media", "--no-index", "--from", hour(9), "--to", hour(7)], env),
      runImvault(["archive", "--no-media", "--no-index", "--from", hour(6), "--to", hour(4)], env),
    ]);
    const verify = await runImvault(["verify"], env);

    for (const run of runs) expect(run.code, run.stdout + run.stderr).toBe(0);
    const chain = await chainIn(dir);
    expect(chain.length).toBeGreaterThanOrEqual(1);
    chain.forEach((digest, i) => {
      expect(digest.key).toBe(digestKey(i + 1));
      expect(digest.previous).toBe(i === 0 ? null : digestKey(i));
    });
    expect(verify.code, verify.stdout).toBe(0);
    expect(verify.stdout).toContain(`${chain.length}/${chain.length} digest files valid`);
    expect(verify.stdout).toMatch(/^24\/24 sealed objects valid/m); // 12 manifests (6 hours, 2 chat types), 12 raw files
    expect(verify.stdout).not.toContain("not sealed yet");
  });

  it("a run killed (kill -9) between its commit and its digest: the next digest seals its manifest", async () => {
    const dir = join(scratch, "killed");
    const env = envFor({ DATA_DIR: dir });
    // The signing key is a FIFO nobody writes: the run commits, then hangs reading the key to seal.
    await mkdir(join(dir, ".imvault"), { recursive: true });
    const keyPath = join(dir, ".imvault", "digest-signing-key.pem");
    expect(spawnSync("mkfifo", [keyPath]).status).toBe(0);
    const committed = manifestKey("C2C", hour(5));
    const victim = startImvault(
      ["archive", "--no-media", "--no-index", "--from", hour(5), "--to", hour(5), "--chat-type", "C2C"],
      env,
    );
    const exited = new Promise((resolve) => victim.on("exit", resolve));
    await waitFor("the manifest's commit", 30_000, () =>
      existsSync(join(dir, committed)) ? true : undefined,
    );
    await waitFor("the run to reach its digest", 10_000, () =>
      victim.output().includes("digest") || victim.output().includes(hour(5)) ? true : undefined,
    );

    victim.kill("SIGKILL");
    await exited;
    await rm(keyPath);
    const before = await chainIn(dir);
    const next = await runImvault(
      ["archive", "--no-media", "--no-index", "--from", hour(4), "--to", hour(4), "--chat-type", "C2C"],
      env,
    );
    const verify = await runImvault(["verify"], env);

    expect(before).toEqual([]);
    expect(next.code, next.stdout + next.stderr).toBe(0);
    const sealed = (await readDigest(createLocalStore({ root: dir }), digestKey(1)))?.digest?.objects.map(
      (o) => o.key,
    );
    expect(sealed).toEqual(expect.arrayContaining([committed, manifestKey("C2C", hour(4))]));
    expect(verify.code, verify.stdout).toBe(0);
  });

  it("status shows the chain's head and the last verification of the whole archive", async () => {
    const dir = join(scratch, "status");
    const env = envFor({ DATA_DIR: dir });
    expect(
      (await runImvault(["archive", "--no-media", "--no-index", "--from", hour(3), "--to", hour(3)], env))
        .code,
    ).toBe(0);
    const part = await runImvault(["verify", "--prefix", "manifests/chat_type=C2C/"], env);
    const afterPart = await runImvault(["status", "--hours", "4", "--json"], env);
    expect((await runImvault(["verify"], env)).code).toBe(0);

    const status = await runImvault(["status", "--hours", "4", "--json"], env);
    const table = await runImvault(["status", "--hours", "4"], env);

    const { evidence } = JSON.parse(status.stdout) as { evidence: Record<string, Record<string, unknown>> };
    expect(evidence.head).toMatchObject({ key: digestKey(1), seq: 1 });
    expect(evidence.lastVerified).toMatchObject({ ok: true, headKey: digestKey(1) });
    // A verification of part of the archive is not its last verification.
    expect(part.code, part.stdout).toBe(0);
    expect(part.stdout).toContain("not recorded as the archive's last verification");
    expect(
      (JSON.parse(afterPart.stdout) as { evidence: { lastVerified: unknown } }).evidence.lastVerified,
    ).toBeNull();
    expect(table.stdout).toMatch(/^digests: head digests\/000000000001\.json .*; last verified .* ok/m);
  });

  describe("on a bucket and on a downloaded copy of it", () => {
    let aws: LocalAws;
    let bucket: string;
    let s3env: NodeJS.ProcessEnv;
    const pem = () => join(scratch, "bucket.pem");

    beforeAll(async () => {
      aws = await startLocalAws();
      bucket = await aws.createBucket();
      s3env = envFor({
        ARCHIVE_BUCKET: bucket,
        AWS_ENDPOINT_URL_S3: aws.endpoint,
        AWS_REGION: TEST_REGION,
        AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      });
      const run = await runImvault(
        ["archive", "--no-media", "--no-index", "--from", hour(6), "--to", hour(5)],
        s3env,
      );
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain("digest: none sealed here (in AWS only the scheduler signs digests");
      // The scheduler's part, here: seal the bucket with a key, and export its public half.
      const signer = await localSigner(join(scratch, "scheduler-key"));
      await sealDigest({ store: createS3Store({ client: aws.s3, bucket }), signer, clock: systemClock });
      await writeFile(pem(), await signer.publicKeyPem());
    });
    afterAll(async () => {
      await aws?.stop();
    });

    it("verifies the bucket with the public key alone, and a downloaded copy the same", async () => {
      const store = createS3Store({ client: aws.s3, bucket });
      const copy = join(scratch, "downloaded");
      for await (const obj of store.list("")) {
        const path = join(copy, ...obj.key.split("/"));
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, (await readStored(store, obj.key))!);
      }

      const onBucket = await runImvault(["verify", "--public-key", pem()], s3env);
      const onCopy = await runImvault(["verify", "--public-key", pem()], envFor({ DATA_DIR: copy }));
      const status = await runImvault(["status", "--hours", "8", "--json"], s3env);

      expect(onBucket.code, onBucket.stdout + onBucket.stderr).toBe(0);
      expect(onBucket.stdout).toMatch(/^1\/1 digest files valid$/m);
      expect(onCopy.code, onCopy.stdout + onCopy.stderr).toBe(0);
      expect(onCopy.stdout).toMatch(/^8\/8 sealed objects valid/m);
      expect(JSON.parse(status.stdout).evidence.lastVerified).toMatchObject({
        ok: true,
        headKey: digestKey(1),
      });
    });

    it("names a manifest deleted from the bucket", async () => {
      const key = manifestKey("Group", hour(6));
      await aws.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));

      const run = await runImvault(["verify", "--public-key", pem()], s3env);

      expect(run.code).toBe(1);
      expect(run.stdout).toContain(`Object     ${key}  INVALID: missing`);
    });
  });
});
