import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleFunctions, HANDLERS, RUNTIME_PROVIDED, SIZE_LIMIT_BYTES } from "./bundle.ts";

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

  it("leaves the AWS SDK to the runtime and keeps SQS out of the api and archive bundles", async () => {
    const api = await readFile(join(outdir, "api.mjs"), "utf8");
    const archive = await readFile(join(outdir, "archive.mjs"), "utf8");
    const schedule = await readFile(join(outdir, "schedule.mjs"), "utf8");
    expect(api).toMatch(/from\s*"@aws-sdk\/client-s3"/);
    expect(api).not.toContain("@aws-sdk/client-sqs");
    expect(archive).not.toContain("@aws-sdk/client-sqs");
    expect(schedule).toMatch(/from\s*"@aws-sdk\/client-sqs"/);
  });
});

describe("infra/functions.ts", () => {
  it("marks the same packages external as scripts/bundle.ts, so the deploy matches what is measured", () => {
    const config = readFileSync(new URL("../infra/functions.ts", import.meta.url), "utf8");
    const match = /esbuild:\s*{\s*external:\s*\[([^\]]*)\]/.exec(config);
    const external = [...(match?.[1] ?? "").matchAll(/"([^"]+)"/g)].map((m) => m[1]);
    expect(external).toEqual([...RUNTIME_PROVIDED]);
  });
});
