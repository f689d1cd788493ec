/**
 * Media capture from the command line against the simulator: `imvault archive` captures each hour's
 * media after its commit (and `--no-media` does not), every captured object holding exactly the bytes
 * the simulator serves; `imvault media` captures an hour archived without them, fails an hour whose
 * download keeps failing (writing no media manifest), and captures it when run again, without
 * fetching what the failed run already stored.
 */
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import {
  addHours,
  createLocalStore,
  hourOf,
  type LocalArchiveStore,
  mediaUrls,
  readGzipHistory,
  readManifest,
  readMediaManifest,
} from "@imvault/im-core";
import { type Simulator, startSimulator } from "@imvault/im-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, runImvault } from "./support/imvault-cli.ts";
import { clearOfHourTurn } from "./support/wait.ts";

const SDKAPPID = 1400023456;
const SECRET = "cli-media-test-secret-key";

async function sha256Of(stream: Readable): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

describe("imvault archive / media capture media against the simulator", () => {
  let sim: Simulator;
  let dataDir: string;
  let store: LocalArchiveStore;
  let env: NodeJS.ProcessEnv;
  let h8: string;
  let h7: string;
  const cosSigCalls = () => sim.requests.filter((r) => r.command === "get_cos_sig").length;

  /** The distinct media URLs of an archived hour, read from its raw files. */
  async function urlsOf(msgTime: string): Promise<string[]> {
    const seen = new Set<string>();
    for (const file of (await readManifest(store, "C2C", msgTime))!.files) {
      for await (const ev of readGzipHistory(await store.get(file.key))) {
        if (ev.kind === "message") for (const m of mediaUrls(ev.message)) seen.add(m.url);
      }
    }
    return [...seen];
  }

  beforeAll(async () => {
    await clearOfHourTurn(30_000);
    const current = hourOf(Date.now());
    h8 = addHours(current, -8);
    h7 = addHours(current, -7);
    sim = await startSimulator({
      sdkAppId: SDKAPPID,
      secretKey: SECRET,
      seed: "cli-media",
      processingDelayMinutes: 0,
      retentionHours: 24,
      volume: 60,
      bannedFraction: 0.1,
      missingFraction: 0.1,
    });
    dataDir = await mkdtemp(join(tmpdir(), "imvault-cli-media-"));
    store = createLocalStore({ root: dataDir });
    env = cleanEnv({
      IM_SDKAPPID: String(SDKAPPID),
      IM_SECRET_KEY: SECRET,
      IM_BASE_URL: sim.url,
      DATA_DIR: dataDir,
      MAX_ATTEMPTS_PER_FILE: "2",
      RETRY_BASE_DELAY_MS: "10",
    });
  });

  afterAll(async () => {
    await sim?.close();
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  it("archive captures the hour's media after its commit, byte for byte, and says so per hour", async () => {
    const run = await runImvault(["archive", "--from", h8, "--to", h8, "--chat-type", "C2C"], env);

    expect(run.code, run.stderr).toBe(0);
    const manifest = await readMediaManifest(store, "C2C", h8);
    expect(manifest?.items.map((i) => i.rawUrl)).toEqual(await urlsOf(h8));
    const counts = { captured: 0, missing: 0, refused: 0 };
    for (const item of manifest!.items) {
      counts[item.status]++;
      const served = sim.mediaObject(item.rawUrl)!;
      if (item.status === "captured") {
        const expected = await sha256Of(served.open());
        expect(item.sha256).toBe(expected);
        expect(await sha256Of(await store.get(item.key))).toBe(expected);
      } else {
        expect([item.status, served.status]).toEqual(["missing", 2]);
      }
    }
    expect(counts.captured).toBeGreaterThan(0);
    expect(counts.missing).toBeGreaterThan(0);
    const cell = `${counts.captured}/${counts.missing}/${counts.refused}`;
    expect(run.stdout).toMatch(/media c\/m\/r/);
    expect(run.stdout).toMatch(new RegExp(`${h8}\\s+C2C\\s+archived\\s.*\\s${cell}$`, "m"));
    expect(run.stdout).toMatch(
      new RegExp(`; media ${counts.captured} captured, ${counts.missing} missing, 0 refused, `),
    );
  });

  it("archive --no-media archives the history only: no get_cos_sig, no media manifest, status says pending", async () => {
    const before = cosSigCalls();

    const run = await runImvault(
      ["archive", "--no-media", "--from", h7, "--to", h7, "--chat-type", "C2C"],
      env,
    );
    const status = await runImvault(["status", "--hours", "8", "--json"], env);

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toMatch(/media/);
    expect(cosSigCalls()).toBe(before);
    expect(await readMediaManifest(store, "C2C", h7)).toBeUndefined();
    const rows = (
      JSON.parse(status.stdout) as { rows: { chatType: string; msgTime: string; media?: unknown }[] }
    ).rows;
    expect(rows.find((r) => r.chatType === "C2C" && r.msgTime === h7)?.media).toBe("pending");
    expect(rows.find((r) => r.chatType === "C2C" && r.msgTime === h8)?.media).toMatchObject({
      captured: expect.any(Number),
    });
  });

  it("media fails an hour whose download keeps failing, writing no media manifest, and captures it when run again", async () => {
    const normal = (await urlsOf(h7)).filter((u) => sim.mediaObject(u)?.status === 0);
    // The last one: the objects before it are downloaded (and stored) while it fails.
    const failing = normal.at(-1)!;
    expect(normal.length).toBeGreaterThan(1);
    sim.faults.next({ kind: "serverError", count: Number.POSITIVE_INFINITY, match: { mediaUrl: failing } });
    const mediaDownloads = () => sim.downloads.filter((d) => d.target === "media");
    const seen = mediaDownloads().length;

    const failed = await runImvault(["media", "--from", h7, "--to", h7, "--chat-type", "C2C"], env);
    const stored = new Set(
      mediaDownloads()
        .slice(seen)
        .filter((d) => d.status === 200)
        .map((d) => d.path),
    );

    expect(failed.code).toBe(1);
    // The error column wraps: the message follows the row over several lines.
    expect(failed.stdout).toMatch(new RegExp(`${h7}\\s+C2C\\s+failed\\s[\\s\\S]*failed 2 attempts`));
    expect(await readMediaManifest(store, "C2C", h7)).toBeUndefined();
    // The failed hour's row and the totals count what it did store before it failed.
    expect(failed.stdout).toMatch(new RegExp(`; ${stored.size} object\\(s\\) fetched \\(`));

    sim.faults.clear();
    const before = mediaDownloads().length;
    const again = await runImvault(["media", "--from", h7, "--to", h7, "--chat-type", "C2C"], env);
    const fetchedAgain = mediaDownloads()
      .slice(before)
      .map((d) => d.path);

    expect(again.code, again.stderr).toBe(0);
    const manifest = await readMediaManifest(store, "C2C", h7);
    expect(manifest?.items.find((i) => i.rawUrl === failing)).toMatchObject({ status: "captured" });
    expect(again.stdout).toMatch(new RegExp(`${h7}\\s+C2C\\s+captured\\s`));
    // Objects the failed run stored are found, not fetched again; the one that failed is.
    expect(stored.size).toBeGreaterThan(0);
    expect(fetchedAgain.filter((path) => stored.has(path))).toEqual([]);
    expect(fetchedAgain).toContain(`/cos/${sim.mediaObject(failing)!.objectPath}`);
    expect(again.stdout).toMatch(new RegExp(`, ${stored.size} found stored already`));
  });

  it("media has nothing to do for a captured hour, and says what the window holds", async () => {
    const run = await runImvault(["media", "--from", h8, "--to", h7, "--chat-type", "C2C"], env);

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim().split("\n").at(-1)).toBe(
      `${h8}..${h7}: 2 hour(s) captured before, 0 not archived (\`imvault archive\` first)`,
    );
  });
});
