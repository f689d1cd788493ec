import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleOptions } from "../../../../scripts/bundle.ts";

const VERIFY_STREAM = new URL("./verify-stream.ts", import.meta.url).pathname;
const ARCHIVE_HANDLER = new URL("../../../functions/src/archive.ts", import.meta.url).pathname;

/** A program that verifies argv[2] (a .gz) against argv[3] (figures JSON) and prints the result. */
const ENTRY = `
import { createReadStream } from "node:fs";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createVerifier } from ${JSON.stringify(VERIFY_STREAM)};
const { stream, figures } = createVerifier(JSON.parse(process.argv[3]), JSON.parse(process.argv[4]));
await pipeline(createReadStream(process.argv[2]), stream, new Writable({ write: (_c, _e, cb) => cb() }));
console.log(JSON.stringify(await figures));
`;

function md5(data: Buffer): string {
  return createHash("md5").update(data).digest("hex");
}

// The gunzip thread's program is a string inside verify-stream's module: these prove it survives the
// deployment's bundling (esbuild, minified, keepNames; scripts/bundle.ts) and runs from the bundle.
describe("the verifier inside an esbuild bundle made with the deployment's options", () => {
  let dir: string;
  const lines = ['{"SdkAppId":1,"MsgList":['];
  for (let i = 0; i < 20_000; i++)
    lines.push(`{"MsgSeq":${i},"Text":"message ${i}"}${i < 19_999 ? "," : ""}`);
  const plain = Buffer.from(`${lines.join("\n")}\n]}\n`);
  const gzip = gzipSync(plain);
  const expected = { gzipSize: gzip.length, gzipMd5: md5(gzip), fileSize: plain.length, fileMd5: md5(plain) };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "imvault-verify-bundle-"));
    await writeFile(join(dir, "entry.ts"), ENTRY);
    await writeFile(join(dir, "hour.gz"), gzip);
    await build({ ...bundleOptions(dir), entryPoints: [join(dir, "entry.ts")], sourcemap: false });
  }, 60_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  function run(figures: object, options: object): { status: number | null; stdout: string; stderr: string } {
    const args = [
      join(dir, "entry.mjs"),
      join(dir, "hour.gz"),
      JSON.stringify(figures),
      JSON.stringify(options),
    ];
    return spawnSync(process.execPath, args, { encoding: "utf8", timeout: 30_000 });
  }

  it("verifies a file on the gunzip thread from the bundle", () => {
    const result = run(expected, { inflateWorkerFromBytes: 0 });

    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual({ ...expected, messageCount: 20_000 });
  });

  it("still refuses a mismatching file from the bundle", () => {
    const result = run({ ...expected, fileMd5: "0".repeat(32) }, { inflateWorkerFromBytes: 0 });

    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/fileMd5 mismatch/);
  });

  it("is what the archive handler's bundle carries", async () => {
    await build({ ...bundleOptions(dir), entryPoints: [ARCHIVE_HANDLER], sourcemap: false });

    const handler = await readFile(join(dir, "archive.mjs"), "utf8");

    expect(handler).toContain("const inflater = createRawGunzip(zlib, chunkSize, { data, end, error });");
  }, 60_000);
});
