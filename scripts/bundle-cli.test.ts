import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { cliBundleOptions } from "./bundle-cli.ts";

// Every way the bundled code imports node:http; prints what each gave and whether undici was loaded.
const FIXTURE = `
import http, { createServer } from "node:http";
import * as namespace from "http";
const dynamic = await import("node:http");
const loaded = process.moduleLoadList.some((m) => m.includes("undici"));
console.log(JSON.stringify({
  named: createServer === process.getBuiltinModule("node:http").createServer,
  default: http === process.getBuiltinModule("node:http"),
  namespace: typeof namespace.request,
  dynamic: typeof (dynamic.default ?? dynamic).Agent,
  undici: loaded,
}));
`;

describe("the CLI bundle's build options", () => {
  const dir = mkdtempSync(join(tmpdir(), "imvault-bundle-cli-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Bundles FIXTURE with the CLI's options (or without its plugins) and runs it in a fresh Node. */
  async function runFixture(name: string, withPlugins: boolean): Promise<Record<string, unknown>> {
    const entry = join(dir, `${name}.ts`);
    writeFileSync(entry, FIXTURE);
    const options = cliBundleOptions(join(dir, name));
    await build({
      ...options,
      entryPoints: [entry],
      ...(withPlugins ? {} : { plugins: [] }),
      logLevel: "silent",
    });
    const out = execFileSync(process.execPath, [join(dir, name, `${name}.mjs`)], { encoding: "utf8" });
    return JSON.parse(out) as Record<string, unknown>;
  }

  it("gives node:http to bundled code without loading undici, in every import form", async () => {
    expect(await runFixture("with", true)).toEqual({
      named: true,
      default: true,
      namespace: "function",
      dynamic: "function",
      undici: false,
    });
  });

  it("(control) a plain ESM import of node:http loads undici, which is why the plugin exists", async () => {
    expect(await runFixture("without", false)).toMatchObject({ undici: true });
  });
});
