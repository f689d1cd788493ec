import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { type BuildOptions, build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleOptions, PLAIN_WORKER_ENTRY } from "../../../../scripts/bundle.ts";
import { cliBundleOptions } from "../../../../scripts/bundle-cli.ts";

const VERIFIER = new URL("./verifier.ts", import.meta.url).pathname;
const WORKER_SIDE = new URL("./worker-plain-side.ts", import.meta.url).pathname;

/**
 * A program that warms up a worker, verifies argv[2] (a .gz) against argv[3] (figures JSON) with
 * options argv[4], and prints the figures, the worker module it found and whether the verification
 * took the warmed-up worker.
 */
const ENTRY = `
import { createReadStream } from "node:fs";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createVerifier } from ${JSON.stringify(VERIFIER)};
import { plainWorkerFile, spareGunzipThread, warmUpGunzipThread } from ${JSON.stringify(WORKER_SIDE)};
warmUpGunzipThread();
const warmed = spareGunzipThread();
const { stream, figures } = createVerifier(JSON.parse(process.argv[3]), JSON.parse(process.argv[4]));
await pipeline(createReadStream(process.argv[2]), stream, new Writable({ write: (_c, _e, cb) => cb() }));
const tookWorker = warmed !== undefined && spareGunzipThread() === undefined;
console.log(JSON.stringify({ figures: await figures, workerFile: plainWorkerFile()?.href ?? null, tookWorker }));
`;

function md5(data: Buffer): string {
  return createHash("md5").update(data).digest("hex");
}

const THREAD = { inflateWorkerFromBytes: 0 };

// The verifier starts its worker from a module of its own, which the bundles carry as a file of their
// own (scripts/bundle.ts, scripts/bundle-cli.ts): these bundle a small program with each deployment's
// options and prove that it finds that file, runs it, and verifies with it.
describe("the verifier's worker inside the esbuild bundles", () => {
  let dir: string;
  const lines = ['{"SdkAppId":1,"MsgList":['];
  for (let i = 0; i < 20_000; i++)
    lines.push(`{"MsgSeq":${i},"Text":"message ${i}"}${i < 19_999 ? "," : ""}`);
  const plain = Buffer.from(`${lines.join("\n")}\n]}\n`);
  const gzip = gzipSync(plain);
  const expected = { gzipSize: gzip.length, gzipMd5: md5(gzip), fileSize: plain.length, fileMd5: md5(plain) };
  const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
  const measured = { ...expected, gzipSha256: sha256(gzip), fileSha256: sha256(plain) };

  /** Bundles ENTRY (and the worker, unless `withWorker` is false) with `options` into dir/`name`. */
  async function bundle(name: string, options: BuildOptions, withWorker = true): Promise<string> {
    const outdir = join(dir, name);
    const entryPoints = [
      { in: join(dir, "entry.ts"), out: "entry" },
      ...(withWorker ? [PLAIN_WORKER_ENTRY] : []),
    ];
    await build({ ...options, outdir, entryPoints, sourcemap: false, metafile: false, logLevel: "silent" });
    return outdir;
  }

  function run(outdir: string, figures: object, options: object) {
    const args = [
      join(outdir, "entry.mjs"),
      join(dir, "hour.gz"),
      JSON.stringify(figures),
      JSON.stringify(options),
    ];
    return spawnSync(process.execPath, args, { encoding: "utf8", timeout: 30_000 });
  }

  let lambda: string;
  let cli: string;
  let noWorker: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "imvault-verify-bundle-"));
    await writeFile(join(dir, "entry.ts"), ENTRY);
    await writeFile(join(dir, "hour.gz"), gzip);
    lambda = await bundle("lambda", bundleOptions(dir));
    cli = await bundle("cli", cliBundleOptions(dir));
    noWorker = await bundle("no-worker", bundleOptions(dir), false);
  }, 60_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  for (const [what, outdir] of [
    ["the Lambdas' options (one file per entry)", () => lambda],
    ["the CLI's options (split into chunks)", () => cli],
  ] as const) {
    it(`verifies a file on the worker from plain-worker.mjs beside a bundle made with ${what}`, () => {
      const result = run(outdir(), expected, THREAD);

      expect(result.stderr).toBe("");
      expect(JSON.parse(result.stdout)).toEqual({
        figures: { ...measured, messageCount: 20_000 },
        workerFile: pathToFileURL(join(outdir(), "plain-worker.mjs")).href,
        tookWorker: true,
      });
    });
  }

  it("still refuses a mismatching file from the bundle", () => {
    const result = run(lambda, { ...expected, fileMd5: "0".repeat(32) }, THREAD);

    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/fileMd5 mismatch/);
  });

  it("verifies on its own thread when the bundle has no worker file beside it", () => {
    const result = run(noWorker, expected, THREAD);

    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual({
      figures: { ...measured, messageCount: 20_000 },
      workerFile: null,
      tookWorker: false,
    });
  });
});
