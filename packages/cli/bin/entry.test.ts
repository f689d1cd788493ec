import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cliEntry } from "./entry.js";

const SOURCES_URL = new URL("../src/main.ts", import.meta.url).href;

describe("cliEntry", () => {
  let dir: string;
  let dist: string;
  const builtAtMs = Date.parse("2026-11-22T06:00:00Z");

  /** A source file beside dist/, last modified at `mtimeMs`. */
  function source(name: string, mtimeMs: number): string {
    const path = join(dir, "src", name);
    writeFileSync(path, "export {};\n");
    utimesSync(path, mtimeMs / 1000, mtimeMs / 1000);
    return `../src/${name}`;
  }
  function buildJson(info: unknown): void {
    writeFileSync(join(dist, "build.json"), typeof info === "string" ? info : JSON.stringify(info));
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "imvault-entry-"));
    dist = join(dir, "dist");
    mkdirSync(dist);
    mkdirSync(join(dir, "src"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("runs the bundle when no source changed since the build began", () => {
    buildJson({ builtAtMs, sources: [source("a.ts", builtAtMs - 60_000), source("b.ts", builtAtMs)] });

    expect(cliEntry(dist)).toBe(pathToFileURL(join(dist, "main.mjs")).href);
  });

  it("runs the sources once one of them is modified after the build began", () => {
    buildJson({ builtAtMs, sources: [source("a.ts", builtAtMs - 60_000), source("b.ts", builtAtMs + 1)] });

    expect(cliEntry(dist)).toBe(SOURCES_URL);
  });

  it("runs the sources when a source of the build is gone", () => {
    buildJson({ builtAtMs, sources: [source("a.ts", builtAtMs - 60_000), "../src/deleted.ts"] });

    expect(cliEntry(dist)).toBe(SOURCES_URL);
  });

  it("runs the sources when there is no whole build: no build.json, or one that does not parse", () => {
    expect(cliEntry(dist)).toBe(SOURCES_URL);

    buildJson('{"builtAtMs": 1795');
    expect(cliEntry(dist)).toBe(SOURCES_URL);
  });
});
