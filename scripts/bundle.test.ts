import { createHash } from "node:crypto";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FromPlainWorker, ToPlainWorker } from "../packages/im-core/src/verify/plain-worker.ts";
import { bundleFunctions, HANDLERS, RUNTIME_PROVIDED, SIZE_LIMIT_BYTES } from "./bundle.ts";

/** Runs the worker module at `path` on `gzip` through its messages; answers its last message. */
async function runWorker(path: string, gzip: Buffer): Promise<FromPlainWorker> {
  const worker = new Worker(path);
  const messages: FromPlainWorker[] = [];
  worker.on("message", (message: FromPlainWorker) => messages.push(message));
  const send = (message: ToPlainWorker) => worker.postMessage(message);
  send({ type: "start", options: { chunkSize: 4096, readAheadBytes: 16384, sliceBytes: 1024, limit: 1e6 } });
  send({ type: "gzip", bytes: new Uint8Array(gzip) });
  send({ type: "end" });
  try {
    while (messages.at(-1)?.type !== "done") await once(worker, "message");
    return messages.at(-1)!;
  } finally {
    await worker.terminate();
  }
}

describe("bundleFunctions", () => {
  let outdir: string;
  let sizes: Record<string, number>;

  beforeAll(async () => {
    outdir = await mkdtemp(join(tmpdir(), "imvault-bundle-"));
    sizes = await bundleFunctions(outdir);
  }, 60_000);
  afterAll(() => rm(outdir, { recursive: true, force: true }));

  it("builds one bundle per handler, each under the size limit", () => {
    expect(Object.keys(sizes).sort()).toEqual([...HANDLERS].sort());
    for (const size of Object.values(sizes)) expect(size).toBeLessThan(SIZE_LIMIT_BYTES);
  });

  it("leaves the AWS SDK to the runtime, SQS out of the archive bundle and loaded by the api at its first export, Athena loaded by the api and the archive at their first search or export", async () => {
    const api = await readFile(join(outdir, "api.mjs"), "utf8");
    const archive = await readFile(join(outdir, "archive.mjs"), "utf8");
    const schedule = await readFile(join(outdir, "schedule.mjs"), "utf8");
    expect(api).toMatch(/from\s*"@aws-sdk\/client-s3"/);
    expect(api).toMatch(/import\(\s*"@aws-sdk\/client-sqs"\s*\)/);
    expect(api).not.toMatch(/from\s*"@aws-sdk\/client-sqs"/);
    expect(archive).not.toContain("@aws-sdk/client-sqs");
    expect(schedule).toMatch(/from\s*"@aws-sdk\/client-sqs"/);
    expect(api).toMatch(/import\(\s*"@aws-sdk\/client-athena"\s*\)/);
    expect(api).not.toMatch(/from\s*"@aws-sdk\/client-athena"/);
    expect(archive).toMatch(/import\(\s*"@aws-sdk\/client-athena"\s*\)/);
    expect(archive).not.toMatch(/from\s*"@aws-sdk\/client-athena"/);
    expect(schedule).not.toContain("@aws-sdk/client-athena");
  });

  it("builds the verifier's worker as a file beside the archive handler, which runs it from there", async () => {
    const archive = await readFile(join(outdir, "archive.mjs"), "utf8");
    const plain = Buffer.from('{"SdkAppId":1,"MsgList":[\n{"MsgSeq":1},\n{"MsgSeq":2}\n]}\n');

    const answer = await runWorker(join(outdir, "plain-worker.mjs"), gzipSync(plain));

    expect(archive).toContain('"./plain-worker.mjs"');
    expect(answer).toEqual({
      type: "done",
      figures: {
        size: plain.length,
        md5: createHash("md5").update(plain).digest("hex"),
        sha256: createHash("sha256").update(plain).digest("hex"),
        messageCount: 2,
        framingProblem: undefined,
      },
    });
  }, 20_000);
});

describe("infra/functions.ts", () => {
  it("marks the same packages external as scripts/bundle.ts, so the deploy matches what is measured", () => {
    const config = readFileSync(new URL("../infra/functions.ts", import.meta.url), "utf8");
    const match = /esbuild:\s*{\s*external:\s*\[([^\]]*)\]/.exec(config);
    const external = [...(match?.[1] ?? "").matchAll(/"([^"]+)"/g)].map((m) => m[1]);
    expect(external).toEqual([...RUNTIME_PROVIDED]);
  });
});
