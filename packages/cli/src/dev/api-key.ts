import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ConfigError, LIMITS, LOCAL_STATE_DIR } from "@imvault/im-core";

/** The key name the dev runner's generated token goes under in API_KEYS (name:token). */
export const DEV_KEY_NAME = "dev";
const FILE_NAME = "api-key";

export interface DevApiKey {
  /** `name:token`, as API_KEYS holds it. */
  entry: string;
  token: string;
  path: string;
  /** Made just now (print it once) or read from an earlier start. */
  created: boolean;
}

export function apiKeyPath(dataDir: string): string {
  return join(dataDir, LOCAL_STATE_DIR, FILE_NAME);
}

/**
 * The dev API key: read from $DATA_DIR/.imvault/api-key, or made from 32 random bytes and stored there
 * readable by the owner only (0600), so the next start keeps working with the same key.
 */
export async function loadOrCreateApiKey(dataDir: string): Promise<DevApiKey> {
  const path = apiKeyPath(dataDir);
  let stored: string | undefined;
  try {
    stored = (await readFile(path, "utf8")).trim();
  } catch (error) {
    if ((error as { code?: unknown }).code !== "ENOENT") throw error;
  }
  if (stored !== undefined) {
    const token = stored.slice(stored.indexOf(":") + 1);
    if (!stored.includes(":") || token.length < LIMITS.minApiTokenChars) {
      throw new ConfigError(path, "does not hold an API key as name:token; delete it to get a new one");
    }
    return { entry: stored, token, path, created: false };
  }
  const token = randomBytes(32).toString("base64url");
  const entry = `${DEV_KEY_NAME}:${token}`;
  await mkdir(join(dataDir, LOCAL_STATE_DIR), { recursive: true, mode: 0o700 });
  await writeFile(path, `${entry}\n`, { mode: 0o600, flag: "wx" });
  await chmod(path, 0o600);
  return { entry, token, path, created: true };
}
