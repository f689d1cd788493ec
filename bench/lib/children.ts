import { type ChildProcess, spawn } from "node:child_process";

/**
 * The benchmarks' child processes: every one is tracked, so that every exit path (the end, a
 * failure, Ctrl-C, the time limit) can stop them.
 */
const children = new Set<ChildProcess>();

export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/** SIGTERMs every tracked child still running. */
export function stopChildren(): void {
  for (const child of children) child.kill("SIGTERM");
}

/** Waits (up to `ms`) for the tracked children to be gone. */
export async function childrenGone(ms: number): Promise<void> {
  for (let waited = 0; waited < ms && children.size > 0; waited += 100) {
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, tracked; SIGKILLed after timeoutMs. */
export function runToEnd(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs: number },
): { child: ChildProcess; done: Promise<Finished> } {
  const child = track(
    spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], ...(options.env ? { env: options.env } : {}) }),
  );
  const done = new Promise<Finished>((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return { child, done };
}

/** Runs a command to completion (as runToEnd) and answers its stdout; throws, with its stderr's end, if it fails. */
export async function stdoutOf(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<string> {
  const r = await runToEnd(command, args, options).done;
  if (r.code !== 0) {
    const what = [command, ...args].join(" ").slice(0, 80);
    throw new Error(`${what} exited ${r.code}: ${r.stderr.slice(-600)}`);
  }
  return r.stdout;
}
