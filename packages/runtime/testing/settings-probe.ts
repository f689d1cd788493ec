/**
 * Runs the settings loaders as a cold start does. SST's Resource proxy reads its links once per
 * process (and keeps them on globalThis), exactly as a Lambda container does. So each case runs the
 * loaders in a fresh Node process with a clean environment: the probe imports settings.ts FIRST and
 * only then applies the case's environment, which also proves that importing the module reads nothing.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, expect } from "vitest";

export const SETTINGS_MODULE = new URL("../src/settings.ts", import.meta.url).href;

export const LOADERS = [
  "loadImConfig",
  "loadArchiveConfig",
  "loadMediaSettings",
  "loadStoreConfig",
  "loadQueueConfig",
  "loadApiConfig",
  "loadEvidenceConfig",
  "loadAthenaConfig",
] as const;
export type Loader = (typeof LOADERS)[number];
export type Outcome = { ok: unknown } | { error: { name: string; message: string; setting?: string } };

const PROBE = `
const [url, envJson] = process.argv.slice(1);
const mod = await import(url);
Object.assign(process.env, JSON.parse(envJson));
const out = {};
for (const name of ${JSON.stringify(LOADERS)}) {
  try { out[name] = { ok: mod[name]() }; }
  catch (e) { out[name] = { error: { name: e.name, message: e.message, setting: e.setting } }; }
}
process.stdout.write(JSON.stringify(out));
`;

/** A temporary working directory for this test file's probes (removed after it), and the probe. */
export function settingsProbe() {
  const tmp = mkdtempSync(join(tmpdir(), "imvault-config-"));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const probe = (env: Record<string, string>, cwd = tmp) => runProbe(env, cwd);
  return { tmp, probe };
}

async function runProbe(env: Record<string, string>, cwd: string): Promise<Record<Loader, Outcome>> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--input-type=module", "-e", PROBE, SETTINGS_MODULE, JSON.stringify(env)],
    { env: { PATH: process.env.PATH ?? "" }, cwd, timeout: 20_000 },
  );
  return JSON.parse(stdout) as Record<Loader, Outcome>;
}

export function ok(outcome: Outcome): unknown {
  if ("error" in outcome)
    throw new Error(`expected a value, got ${outcome.error.name}: ${outcome.error.message}`);
  return outcome.ok;
}

export function configError(outcome: Outcome): { message: string; setting: string } {
  if (!("error" in outcome)) throw new Error(`expected a ConfigError, got ${JSON.stringify(outcome.ok)}`);
  expect(outcome.error.name).toBe("ConfigError");
  return { message: outcome.error.message, setting: outcome.error.setting ?? "" };
}

export const LOCAL_MINIMUM = {
  IM_SDKAPPID: "1400000001",
  IM_SECRET_KEY: "local-secret-key-0001",
  API_KEYS: "ops:ops-token-0001-local",
  JOBS_QUEUE_URL: "http://127.0.0.1:9324/000000000000/jobs",
};
export const DEFAULT_HOSTS = ["*.tim.qq.com", "*.im.qcloud.com", "*.my-imcloud.com", "*.myqcloud.com"];

/** SPEC's archive defaults, as loadArchiveConfig answers them when nothing is set. */
export const ARCHIVE_DEFAULTS = {
  lookbackHours: 72,
  settleHours: 6,
  maxAttemptsPerFile: 5,
  idleTimeoutMs: 30_000,
  retryBaseDelayMs: 1000,
  retentionDays: 7,
};
