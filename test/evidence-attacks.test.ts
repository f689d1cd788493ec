/**
 * The attacks a signed chain of digests is for, against `imvault verify` on a DATA_DIR that
 * `imvault archive` filled and sealed (three runs, three digests): each one is caught, with the object
 * named, and a clean archive passes. Each attack works on its own copy of the archive.
 */
import { generateKeyPairSync, sign } from "node:crypto";
import { cp, mkdtemp, readFile, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  addHours,
  digestBodyBytes,
  digestKey,
  hourOf,
  manifestKey,
  sha256Hex,
  stringToSign,
} from "@imvault/im-core";
import { makeHistoryFile } from "@imvault/im-core/testing";
import { type Simulator, startSimulator } from "@imvault/im-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, runImvault } from "./support/imvault-cli.ts";
import { clearOfHourTurn } from "./support/wait.ts";

const SDKAPPID = 1400012377;
const SECRET = "evidence-attacks-secret-key";

describe("imvault verify against tampering", () => {
  let sim: Simulator;
  let base: string;
  let scratch: string;
  const hours: string[] = [];

  beforeAll(async () => {
    await clearOfHourTurn(60_000);
    for (const back of [5, 4, 3]) hours.push(addHours(hourOf(Date.now()), -back));
    sim = await startSimulator({
      sdkAppId: SDKAPPID,
      secretKey: SECRET,
      seed: "evidence",
      processingDelayMinutes: 0,
      volume: 40,
    });
    scratch = await mkdtemp(join(tmpdir(), "imvault-evidence-"));
    base = join(scratch, "base");
    for (const hour of hours) {
      const run = await runImvault(
        ["archive", "--no-media", "--no-index", "--from", hour, "--to", hour],
        envFor(base),
      );
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toMatch(/^digest: sealed digests\/\d{12}\.json \(2 object\(s\)/m);
    }
  }, 60_000);

  afterAll(async () => {
    await sim?.close();
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
  });

  function envFor(dataDir: string): NodeJS.ProcessEnv {
    return cleanEnv({
      IM_SDKAPPID: String(SDKAPPID),
      IM_SECRET_KEY: SECRET,
      IM_BASE_URL: sim.url,
      DATA_DIR: dataDir,
    });
  }

  /** A copy of the sealed archive to attack. */
  async function copy(name: string): Promise<{ dir: string; path: (key: string) => string }> {
    const dir = join(scratch, name);
    await cp(base, dir, { recursive: true, preserveTimestamps: true });
    return { dir, path: (key) => join(dir, ...key.split("/")) };
  }

  const manifestOf = async (path: (key: string) => string, key: string) =>
    JSON.parse(await readFile(path(key), "utf8")) as { files: Record<string, unknown>[] };

  it("passes a clean archive: every digest and sealed object valid", async () => {
    const { dir } = await copy("clean");

    const run = await runImvault(["verify", "--verbose"], envFor(dir));

    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain("3/3 digest files valid");
    expect(run.stdout).toMatch(/^(\d+)\/\1 sealed objects valid \(0 modified, 0 missing, 0 moved\)$/m);
    expect(run.stdout).toMatch(/^Digest file digests\/000000000003\.json {2}valid$/m);
    expect(run.stdout).toMatch(
      /^ok: 6 manifest\(s\), \d+ file\(s\), .* re-hashed \(\d+ against their digest's SHA-256\)/m,
    );
  });

  it("catches a raw file and its manifest rewritten together, naming both", async () => {
    const { dir, path } = await copy("rewritten");
    const key = manifestKey("C2C", hours[1]!);
    const manifest = await manifestOf(path, key);
    const raw = String(manifest.files[0]!.key);
    const forged = makeHistoryFile("C2C", hours[1]!, 2, "https://x.tim.qq.com/forged.gz", 0);
    await writeFile(path(raw), forged.gz);
    Object.assign(manifest.files[0]!, {
      gzipSize: forged.history.gzipSize,
      gzipMd5: forged.history.gzipMd5,
      fileSize: forged.history.fileSize,
      fileMd5: forged.history.fileMd5,
      messageCount: 2,
    });
    await writeFile(path(key), JSON.stringify(manifest));

    const run = await runImvault(["verify"], envFor(dir));

    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`Object     ${key}  INVALID: modified`);
    expect(run.stdout).toContain(`Raw file   ${raw}  INVALID: modified`);
    expect(run.stdout).toContain("3/3 digest files valid");
  });

  it("catches a deleted manifest, naming it missing", async () => {
    const { dir, path } = await copy("manifest-deleted");
    const key = manifestKey("Group", hours[0]!);
    await unlink(path(key));

    const run = await runImvault(["verify"], envFor(dir));

    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`Object     ${key}  INVALID: missing`);
  });

  it("catches a deleted digest, named by the digest after it", async () => {
    const { dir, path } = await copy("digest-deleted");
    await unlink(path(digestKey(2)));

    const run = await runImvault(["verify"], envFor(dir));

    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `Digest file ${digestKey(2)}  INVALID: missing (${digestKey(3)} names it as its previous digest)`,
    );
    expect(run.stdout).toContain("2/3 digest files valid, 1/3 digest files INVALID");
  });

  it("catches an edited digest: its signature fails and the next digest's hash of it differs", async () => {
    const { dir, path } = await copy("digest-edited");
    const digest = JSON.parse(await readFile(path(digestKey(1)), "utf8")) as { objects: unknown[] };
    digest.objects.pop(); // an hour dropped from the record
    await writeFile(path(digestKey(1)), JSON.stringify(digest, null, 2));

    const run = await runImvault(["verify"], envFor(dir));

    expect(run.code).toBe(1);
    const line = run.stdout.split("\n").find((l) => l.startsWith(`Digest file ${digestKey(1)}  INVALID: `));
    expect(line).toContain("the signature does not match its contents");
    expect(line).toContain(`but ${digestKey(2)} recorded`);
  });

  it("catches a forged signature, and a chain re-signed with another key under --public-key", async () => {
    const { dir, path } = await copy("forged");
    const forger = generateKeyPairSync("ed25519");
    const raw = JSON.parse(await readFile(path(digestKey(3)), "utf8")) as Record<string, string>;
    const text = stringToSign({
      digestEndTime: raw.digestEndTime!,
      digestKey: raw.digestKey!,
      bodySha256: sha256Hex(digestBodyBytes(raw)),
      previousDigestSignature: raw.previousDigestSignature!,
    });
    raw.signature = sign(null, Buffer.from(sha256Hex(text), "hex"), forger.privateKey).toString("hex");
    await writeFile(path(digestKey(3)), JSON.stringify(raw, null, 2));
    const otherKey = join(scratch, "other.pem");
    await writeFile(otherKey, forger.publicKey.export({ type: "spki", format: "pem" }));

    const run = await runImvault(["verify"], envFor(dir));
    const underOther = await runImvault(["verify", "--public-key", otherKey], envFor(base));

    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `Digest file ${digestKey(3)}  INVALID: the signature does not match its contents`,
    );
    expect(underOther.code).toBe(1);
    expect(underOther.stdout).toContain("0/3 digest files valid, 3/3 digest files INVALID");
    expect(underOther.stdout).toMatch(
      /INVALID: signed with another key \(fingerprint [0-9a-f]{64}, not [0-9a-f]{64}\)/,
    );
  });

  it("verifies with the exported public key alone (key export --out)", async () => {
    const { dir } = await copy("exported");
    const pem = join(scratch, "imvault.pem");

    const exported = await runImvault(["key", "export", "--out", pem], envFor(dir));
    await rm(join(dir, ".imvault"), { recursive: true }); // no private key left beside the archive
    const run = await runImvault(["verify", "--public-key", pem], envFor(dir));
    const without = await runImvault(["verify"], envFor(dir));

    expect(exported.stdout).toMatch(/^fingerprint [0-9a-f]{64} \(Ed25519;/m);
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toContain("3/3 digest files valid");
    expect(without.code).toBe(2);
    expect(without.stderr).toContain("--public-key is needed");
  });
});
