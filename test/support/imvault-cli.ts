import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * The `imvault` bin, run the way npm's link runs it: the file itself, through its shebang (Node 24
 * from PATH, which npm and npx put node_modules/.bin first on, with the bin's Node flags). It runs the
 * CLI bundle while that is current (in CI, the one `npm ci` built), else the sources being edited.
 */
export const IMVAULT_BIN = fileURLToPath(new URL("../../packages/cli/bin/imvault.js", import.meta.url));

/** The environment without anything of the developer's that would change what imvault does. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (
      /^(IM_|API_KEYS|DATA_DIR|PORT$|LOOKBACK_HOURS|SETTLE_HOURS|ARCHIVE_BUCKET|JOBS_QUEUE_URL|AWS_|SST_|DEBUG)/.test(
        k,
      )
    )
      continue;
    env[k] = v;
  }
  return { ...env, NO_COLOR: "1", ...extra };
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `imvault …` to completion; killed (and the test fails on the code) after `timeoutMs`. */
export function runImvault(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 45_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(IMVAULT_BIN, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    // Decoded as a stream: a character whose UTF-8 bytes straddle two chunks stays whole.
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.on("data", (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Starts `imvault …` and keeps it running; the caller stops it. */
export function startImvault(
  args: string[],
  env: NodeJS.ProcessEnv,
  options: { cwd?: string } = {},
): ChildProcess & { output: () => string } {
  const child = spawn(IMVAULT_BIN, args, {
    env,
    stdio: ["ignore", "pipe", "pipe"],
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  let output = "";
  child.stdout.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    output += d.toString();
  });
  return Object.assign(child, { output: () => output });
}
