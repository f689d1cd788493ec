import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ExportDir, ExportTargetError } from "./output.ts";

describe("ExportDir's file sinks", () => {
  let dir: string;
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "imvault-export-output-"));
    warnings.length = 0;
    process.on("warning", onWarning);
  });
  afterEach(async () => {
    process.off("warning", onWarning);
    await rm(dir, { recursive: true, force: true });
  });

  it("waits for the file to drain on every big write without piling up listeners", async () => {
    const exportDir = await ExportDir.create(join(dir, "out"));
    const sink = await exportDir.open("big.bin");
    const chunk = Buffer.alloc(256 * 1024, 1);

    // Each write is past the file stream's buffer, so each one waits for it to drain.
    for (let i = 0; i < 40; i++) await sink.write(chunk);
    const file = await sink.close();
    await new Promise((resolve) => setImmediate(resolve));

    expect(file.size).toBe(40 * chunk.length);
    expect((await readFile(join(exportDir.temp, "big.bin"))).length).toBe(40 * chunk.length);
    expect(warnings).toEqual([]);
  });
});

describe("ExportDir.create's refusals", () => {
  it("says the parent directory does not exist when it does not", async () => {
    const dir = await mkdtemp(join(tmpdir(), "imvault-export-target-"));
    try {
      const creating = ExportDir.create(join(dir, "missing", "out"));

      await expect(creating).rejects.toBeInstanceOf(ExportTargetError);
      await expect(creating).rejects.toThrow(/its parent directory does not exist \(ENOENT\)/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.runIf(existsSync("/proc/self"))(
    "says a parent that is there but makes no files (procfs) accepts no new files",
    async () => {
      const creating = ExportDir.create("/proc/imvault-export-test");

      await expect(creating).rejects.toThrow(
        /--out \/proc\/imvault-export-test: its parent directory accepts no new files \(ENOENT\)/,
      );
    },
  );
});
