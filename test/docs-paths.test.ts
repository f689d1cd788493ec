/**
 * The READMEs point only at files that exist: every repository path they name (in backticks, or a
 * bare `*.md` / `*.ts` file name) resolves from the repository root or from the README's folder.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const readmes = [
  "README.md",
  ...readdirSync(join(root, "packages"))
    .map((p) => `packages/${p}/README.md`)
    .filter((p) => existsSync(join(root, p))),
];
const TOP = /^(packages|test|bench|scripts|docs|infra)\//;

/** Paths a README names: backticked tokens under a top-level folder, and file names like SPEC.md. */
function namedPaths(text: string): string[] {
  const backticked = [...text.matchAll(/`([^`\s]+)`/g)]
    .map((m) => m[1]!)
    .filter((t) => TOP.test(t) && !/[{}…*$<>]/.test(t));
  const files = [...text.matchAll(/(?<![\w/.$-])([\w-]+(?:\/[\w.-]+)*\.(?:md|ts|sh))\b/g)]
    .map((m) => m[1]!)
    .filter((t) => !t.startsWith("node:"));
  return [...new Set([...backticked, ...files])];
}

describe("the READMEs", () => {
  it.each(readmes)("%s names only paths that exist", (readme) => {
    const text = readFileSync(join(root, readme), "utf8");
    const here = dirname(join(root, readme));

    const missing = namedPaths(text).filter((p) => !existsSync(join(root, p)) && !existsSync(join(here, p)));

    expect(missing).toEqual([]);
  });
});
