import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { createVerifier } from "./verifier.ts";
import { spareGunzipThread, warmUpGunzipThread } from "./worker-plain-side.ts";

const MODULE = new URL("./worker-plain-side.ts", import.meta.url).pathname;
const VERIFIER = new URL("./verifier.ts", import.meta.url).pathname;
const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** A small history file and its figures. */
function historyFile(messages: number) {
  const lines = ['{"SdkAppId":1,"MsgList":['];
  for (let i = 0; i < messages; i++) lines.push(`{"MsgSeq":${i}}${i < messages - 1 ? "," : ""}`);
  const plain = Buffer.from(`${lines.join("\n")}\n]}\n`);
  const gzip = gzipSync(plain);
  return {
    gzip,
    figures: { gzipSize: gzip.length, gzipMd5: md5(gzip), fileSize: plain.length, fileMd5: md5(plain) },
    sha256s: { gzipSha256: sha256(gzip), fileSha256: sha256(plain) },
  };
}

/** Verifies on the gunzip thread (threshold 0), as archiving a big file does. */
async function verifyOnThread(messages: number) {
  const { gzip, figures, sha256s } = historyFile(messages);
  const { stream, figures: verified } = createVerifier(figures, { inflateWorkerFromBytes: 0 });
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  await pipeline(Readable.from([gzip]), stream, sink);
  return { expected: { ...figures, ...sha256s, messageCount: messages }, got: await verified };
}

async function dropSpare(): Promise<void> {
  const spare = spareGunzipThread();
  if (spare === undefined) return;
  const exited = once(spare, "exit");
  await spare.terminate();
  await exited;
}

describe("warmUpGunzipThread", () => {
  it("leaves one booted thread waiting, which the next verification on a thread takes", async () => {
    await dropSpare();

    warmUpGunzipThread();
    const spare = spareGunzipThread();
    warmUpGunzipThread();

    expect(spare).toBeDefined();
    expect(spareGunzipThread()).toBe(spare); // at most one waits
    const { expected, got } = await verifyOnThread(300);
    expect(got).toEqual(expected);
    expect(spareGunzipThread()).toBeUndefined();
  });

  it("forgets a waiting thread that died, and the next verification starts its own", async () => {
    await dropSpare();
    warmUpGunzipThread();

    await dropSpare();

    expect(spareGunzipThread()).toBeUndefined();
    const { expected, got } = await verifyOnThread(40);
    expect(got).toEqual(expected);
  });

  it("runs in a process started with --input-type=module, a flag Node refuses for a worker from a file", () => {
    const { gzip, figures, sha256s } = historyFile(25);
    const program = [
      `import { Readable, Writable } from "node:stream";`,
      `import { pipeline } from "node:stream/promises";`,
      `import { warmUpGunzipThread } from ${JSON.stringify(MODULE)};`,
      `import { createVerifier } from ${JSON.stringify(VERIFIER)};`,
      "warmUpGunzipThread();",
      `const { stream, figures } = createVerifier(${JSON.stringify(figures)}, { inflateWorkerFromBytes: 0 });`,
      `const gzip = Buffer.from(${JSON.stringify(gzip.toString("base64"))}, "base64");`,
      "await pipeline(Readable.from([gzip]), stream, new Writable({ write: (_c, _e, cb) => cb() }));",
      "console.log(JSON.stringify(await figures));",
    ].join("\n");

    const child = spawnSync(process.execPath, ["--input-type=module", "-e", program], {
      encoding: "utf8",
      timeout: 20_000,
    });

    expect(child.stderr).toBe("");
    expect(JSON.parse(child.stdout)).toEqual({ ...figures, ...sha256s, messageCount: 25 });
  });

  it("runs on the worker in a process started with a V8 flag, as the imvault bin starts one", () => {
    const { gzip, figures, sha256s } = historyFile(25);
    const dir = mkdtempSync(join(tmpdir(), "imvault-worker-flags-"));
    const program = join(dir, "program.mjs");
    writeFileSync(
      program,
      [
        `import { Readable, Writable } from "node:stream";`,
        `import { pipeline } from "node:stream/promises";`,
        `import { spareGunzipThread, warmUpGunzipThread } from ${JSON.stringify(MODULE)};`,
        `import { createVerifier } from ${JSON.stringify(VERIFIER)};`,
        "warmUpGunzipThread();",
        "const warmed = spareGunzipThread();",
        `const { stream, figures } = createVerifier(${JSON.stringify(figures)}, { inflateWorkerFromBytes: 0 });`,
        `const gzip = Buffer.from(${JSON.stringify(gzip.toString("base64"))}, "base64");`,
        "await pipeline(Readable.from([gzip]), stream, new Writable({ write: (_c, _e, cb) => cb() }));",
        "const tookWorker = warmed !== undefined && spareGunzipThread() === undefined;",
        "console.log(JSON.stringify({ figures: await figures, tookWorker }));",
      ].join("\n"),
    );

    const child = spawnSync(process.execPath, ["--max-semi-space-size=2", program], {
      encoding: "utf8",
      timeout: 20_000,
    });
    rmSync(dir, { recursive: true, force: true });

    expect(child.stderr).toBe("");
    expect(JSON.parse(child.stdout)).toEqual({
      figures: { ...figures, ...sha256s, messageCount: 25 },
      tookWorker: true,
    });
  });

  it("a waiting thread does not keep the process alive", () => {
    const program = `import { warmUpGunzipThread } from ${JSON.stringify(MODULE)}; warmUpGunzipThread();`;

    const child = spawnSync(process.execPath, ["--input-type=module", "-e", program], {
      encoding: "utf8",
      timeout: 20_000,
    });

    expect(child.signal).toBeNull(); // not killed at the timeout: it ended by itself
    expect(child.stderr).toBe("");
    expect(child.status).toBe(0);
  });
});
