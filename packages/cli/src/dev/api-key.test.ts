import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { apiKeyPath, loadOrCreateApiKey } from "./api-key.ts";

describe("the dev API key", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "imvault-key-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("is made once, stored readable by the owner only, and reused on the next start", async () => {
    const first = await loadOrCreateApiKey(dir);
    const second = await loadOrCreateApiKey(dir);

    expect(first.created).toBe(true);
    expect(first.entry).toBe(`dev:${first.token}`);
    expect(first.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await stat(first.path)).mode & 0o777).toBe(0o600);
    expect(await readFile(first.path, "utf8")).toBe(`${first.entry}\n`);
    expect(second).toEqual({ ...first, created: false });
  });

  it("refuses a key file that does not hold name:token", async () => {
    await loadOrCreateApiKey(dir);
    await writeFile(apiKeyPath(dir), "garbage\n");

    await expect(loadOrCreateApiKey(dir)).rejects.toThrow(/name:token/);
  });

  it("refuses a key file whose token is shorter than the settings accept (16 characters)", async () => {
    await loadOrCreateApiKey(dir);
    await writeFile(apiKeyPath(dir), "dev:tok-15-chars-xx\n");

    await expect(loadOrCreateApiKey(dir)).rejects.toThrow(/delete it to get a new one/);
  });
});
