import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cleanEnv, IMVAULT_BIN } from "./support/imvault-cli.ts";

/** Runs the bin with its stdout's reader gone before it writes (as `imvault … | head -0` does). */
function runWithClosedStdout(args: string[], env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn(IMVAULT_BIN, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe("imvault with nobody reading its output", () => {
  it("--help ends with 0 and no EPIPE crash", async () => {
    const result = await runWithClosedStdout(["--help"], cleanEnv({}));

    expect(result.stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(result.code).toBe(0);
  });

  it("status still runs to its own exit code", async () => {
    const dir = await mkdtemp(join(tmpdir(), "imvault-pipe-"));
    try {
      const result = await runWithClosedStdout(["status", "--hours", "2"], cleanEnv({ DATA_DIR: dir }));

      expect(result.stderr).not.toMatch(/EPIPE|Unhandled/);
      expect(result.code).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
