/**
 * README "Configuration" documents every setting the settings loader reads: the environment
 * variables named in packages/runtime/src/settings.ts (each `at("NAME", …)` and each `env: "NAME"`).
 */
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";

const root = new URL("../", import.meta.url);

describe("README's settings table", () => {
  it("has a row for every variable the settings loader reads", async () => {
    const source = await readFile(new URL("packages/runtime/src/settings.ts", root), "utf8");
    const readme = await readFile(new URL("README.md", root), "utf8");
    const read = [
      ...[...source.matchAll(/\bat\(\s*"([A-Z][A-Z0-9_]*)"/g)].map((m) => m[1]),
      ...[...source.matchAll(/\benv: "([A-Z][A-Z0-9_]*)"/g)].map((m) => m[1]),
    ];
    const section = /## Configuration\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? "";
    const rows = section.split("\n").filter((line) => line.startsWith("| `"));

    expect(read.length).toBeGreaterThan(20);
    const undocumented = read.filter((name) => !rows.some((row) => row.includes(`\`${name}\``)));
    expect(undocumented).toEqual([]);
  });
});
