/**
 * imvault export against the simulator's archive: two hours either side of a Beijing midnight,
 * archived (with media, sealed) and indexed, then one user exported in each format. The ground truth
 * is the message table as `imvault search` gives it and the archived media objects as they lie under
 * DATA_DIR; the RSMF manifests are checked against Relativity's published JSON schema, every .rsmf is
 * re-read with a MIME parser and unzipped, and the HTML pages are opened in Debian's chromium with
 * every request outside the export's folder recorded.
 */
import { createHash } from "node:crypto";
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { addHours, hourOf } from "@imvault/im-core";
import { type Simulator, startSimulator } from "@imvault/im-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, runImvault } from "./support/imvault-cli.ts";
import { readRsmf, rsmfSchemaValidator } from "./support/rsmf.ts";
import { clearOfHourTurn } from "./support/wait.ts";

const SDKAPPID = 1400034567;
const SECRET = "cli-export-test-secret-key";

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.push(join(e.parentPath, e.name).slice(dir.length + 1));
  }
  return out.sort();
}

interface TableRow {
  raw: string;
  dt: string;
  chat_type: string;
  conversation: string;
  source_key: string;
  line: number;
  media_urls: string[];
}

interface Manifest {
  messages: number;
  note?: string;
  digestChainHead: { key: string; sha256: string } | null;
  slices: { file: string; dt: string; chatType: string; conversation: string; messages: number }[];
  media: {
    copied: number;
    banned: { rawUrl: string; key: string }[];
    missing: { rawUrl: string; status: string }[];
  };
  files: { path: string; size: number; sha256: string }[];
}

/** Each media URL of the hours captured under DATA_DIR: banned (Tencent's Status 1), missing or captured. */
async function mediaStatuses(dataDir: string): Promise<Map<string, "banned" | "missing" | "captured">> {
  const out = new Map<string, "banned" | "missing" | "captured">();
  const root = join(dataDir, "media-manifests");
  for (const path of await filesUnder(root)) {
    const manifest = JSON.parse(await readFile(join(root, path), "utf8")) as {
      items: { rawUrl: string; status: string; tencentStatus?: number }[];
    };
    for (const item of manifest.items) {
      if (item.status === "missing") out.set(item.rawUrl, "missing");
      else if (item.status === "captured")
        out.set(item.rawUrl, item.tencentStatus === 1 ? "banned" : "captured");
    }
  }
  return out;
}

/** The last Beijing midnight hour (HH 00) at least `minAge` hours ago, as YYYYMMDDHH. */
function lastMidnight(minAge: number): string {
  let h = addHours(hourOf(Date.now()), -minAge);
  while (!h.endsWith("00")) h = addHours(h, -1);
  return h;
}

describe("imvault export against the simulator's archive", () => {
  let sim: Simulator;
  let dataDir: string;
  let outRoot: string;
  let env: NodeJS.ProcessEnv;
  let from: string;
  let to: string;
  let user: string;
  let rows: TableRow[];

  const readManifest = async (dir: string) =>
    JSON.parse(await readFile(join(dir, "export-manifest.json"), "utf8")) as Manifest;
  const archived = (key: string) => readFile(join(dataDir, key));

  beforeAll(async () => {
    await clearOfHourTurn(120_000);
    // The hour before a Beijing midnight and the midnight hour: two Beijing days.
    to = lastMidnight(3);
    from = addHours(to, -1);
    sim = await startSimulator({
      sdkAppId: SDKAPPID,
      secretKey: SECRET,
      seed: "cli-export",
      processingDelayMinutes: 0,
      retentionHours: 48,
      // An hour's messages are generated from its date, so the window's richness varies by day: with
      // 400, the window ending 2026-12-07 00:00 had no user below to export (the best had 7 media).
      volume: 1000,
      bannedFraction: 0.2,
      missingFraction: 0.3,
    });
    dataDir = await mkdtemp(join(tmpdir(), "imvault-export-data-"));
    outRoot = await mkdtemp(join(tmpdir(), "imvault-export-out-"));
    env = cleanEnv({
      IM_SDKAPPID: String(SDKAPPID),
      IM_SECRET_KEY: SECRET,
      IM_BASE_URL: sim.url,
      DATA_DIR: dataDir,
      LOOKBACK_HOURS: "48",
    });
    const archive = await runImvault(["archive", "--from", from, "--to", to], env, 120_000);
    expect(archive.code, archive.stderr).toBe(0);
    const index = await runImvault(["index", "--from", from, "--to", to], env, 60_000);
    expect(index.code, index.stderr).toBe(0);
    // A user with messages on both days and in both chat types, whose media hold more than ten URLs,
    // a banned one and a missing one among them (as the hours' media manifests recorded them).
    const pick = await runImvault(
      [
        "query",
        "SELECT from_account AS u, list_distinct(flatten(list(media_urls))) AS media FROM messages " +
          "WHERE from_account IS NOT NULL GROUP BY 1 " +
          "HAVING count(DISTINCT dt) = 2 AND count(DISTINCT chat_type) = 2 ORDER BY sum(len(media_urls)) DESC, 1",
        "--format",
        "json",
      ],
      env,
    );
    expect(pick.code, pick.stderr).toBe(0);
    const captured = await mediaStatuses(dataDir);
    const rich = (JSON.parse(pick.stdout) as { u: string; media: string[] }[]).find(
      ({ media }) =>
        media.length > 10 &&
        media.some((url) => captured.get(url) === "banned") &&
        media.some((url) => captured.get(url) === "missing"),
    );
    expect(rich, "no user with enough media, banned and missing among them").toBeDefined();
    user = rich!.u;
    const search = await runImvault(["search", "--user", user, "--format", "ndjson"], env);
    expect(search.code, search.stderr).toBe(0);
    rows = search.stdout
      .split("\n")
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as TableRow);
    expect(new Set(rows.map((r) => r.dt)).size).toBe(2);
    expect(new Set(rows.map((r) => r.chat_type)).size).toBe(2);
    expect(new Set(rows.flatMap((r) => r.media_urls)).size).toBeGreaterThan(10);
  }, 240_000);

  afterAll(async () => {
    await sim?.close();
    for (const dir of [dataDir, outRoot])
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const exportTo = async (format: string, name: string, extra: string[] = ["--user", user]) => {
    const out = join(outRoot, name);
    const run = await runImvault(
      ["export", ...extra, "--from", from, "--to", to, "--format", format, "--out", out],
      env,
      120_000,
    );
    return { out, run };
  };

  /** The media of the user's messages, as the table names them. */
  const mediaOfRows = () => new Set(rows.flatMap((r) => r.media_urls));

  it("jsonl: exactly the table's rows for the user, sliced by conversation and day; media byte-identical", async () => {
    const { out, run } = await exportTo("jsonl", "jsonl");

    expect(run.code, run.stderr).toBe(0);
    const manifest = await readManifest(out);
    const lines: string[] = [];
    for (const slice of manifest.slices) {
      const text = await readFile(join(out, slice.file), "utf8");
      const sliceLines = text.split("\n").filter((l) => l.length > 0);
      expect(sliceLines).toHaveLength(slice.messages);
      // Every line of a slice is of its day and conversation.
      for (const line of sliceLines) {
        const row = rows.find((r) => r.raw === line)!;
        expect([row.dt, row.conversation]).toEqual([slice.dt, slice.conversation]);
      }
      lines.push(...sliceLines);
    }
    expect(lines.sort()).toEqual(rows.map((r) => r.raw).sort());
    expect(manifest.messages).toBe(rows.length);
    expect(new Set(manifest.slices.map((s) => s.dt)).size).toBe(2);

    // Every media file of the export holds the archived object's bytes; every medium of the rows is
    // in the export or listed as not in the archive.
    const mediaFiles = (await filesUnder(out)).filter((p) => p.startsWith("media/"));
    expect(mediaFiles.length).toBeGreaterThan(0);
    expect(mediaFiles.length).toBe(manifest.media.copied);
    for (const path of mediaFiles) {
      expect(sha256(await readFile(join(out, path)))).toBe(sha256(await archived(path)));
    }
    const missing = new Set(manifest.media.missing.map((m) => m.rawUrl));
    const copiedKeys = new Set(mediaFiles);
    for (const url of mediaOfRows()) {
      const key = `media/${new URL(url).host}${new URL(url).pathname}`;
      expect(copiedKeys.has(key) || missing.has(url), url).toBe(true);
    }
    expect(manifest.media.missing.some((m) => m.status === "missing")).toBe(true);
    expect(manifest.media.banned.length).toBeGreaterThan(0);
    for (const b of manifest.media.banned) expect(copiedKeys.has(b.key)).toBe(true);

    // The evidence it was made from: the chain's head digest when it ran.
    const digests = (await filesUnder(join(dataDir, "digests"))).sort();
    expect(manifest.digestChainHead?.key).toBe(`digests/${digests.at(-1)}`);
    expect(manifest.digestChainHead?.sha256).toBe(sha256(await archived(manifest.digestChainHead!.key)));
  }, 180_000);

  it("export verify: valid as written; a changed, removed or added file is reported with exit 1", async () => {
    const { out, run } = await exportTo("jsonl", "jsonl-verify");
    expect(run.code, run.stderr).toBe(0);

    const clean = await runImvault(["export", "verify", out], env);
    expect(clean.code, clean.stdout).toBe(0);
    expect(clean.stdout).toMatch(/^valid: \d+ file\(s\) match export-manifest\.json$/m);

    const manifest = await readManifest(out);
    const [first, second] = manifest.files;
    await appendFile(join(out, first!.path), "x");
    await rm(join(out, second!.path));
    await writeFile(join(out, "conversations", "extra.jsonl"), "{}\n");
    const tampered = await runImvault(["export", "verify", out, "--json"], env);

    expect(tampered.code).toBe(1);
    const result = JSON.parse(tampered.stdout) as { ok: boolean; problems: string[] };
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining(`${first!.path}: ${first!.size + 1} bytes`),
        `${second!.path}: missing`,
        "conversations/extra.jsonl: not in the manifest (added)",
      ]),
    );
  }, 180_000);

  it("rsmf: every file is MIME with X-RSMF headers and one rsmf.zip whose manifest is valid RSMF 2.0", async () => {
    const { out, run } = await exportTo("rsmf", "rsmf");

    expect(run.code, run.stderr).toBe(0);
    const manifest = await readManifest(out);
    const validate = await rsmfSchemaValidator();
    let events = 0;
    const bodies: string[] = [];
    for (const slice of manifest.slices) {
      expect(slice.file).toMatch(/\.rsmf$/);
      const rsmf = await readRsmf(join(out, slice.file));
      expect(rsmf.headers.get("x-rsmf-version")).toBe("2.0.0");
      expect(Number(rsmf.headers.get("x-rsmf-eventcount"))).toBe(slice.messages);
      const valid = validate(rsmf.manifest);
      expect(valid, JSON.stringify(validate.errors)).toBe(true);
      const m = rsmf.manifest as {
        events: { body: string; participant: string; attachments?: { id: string; size: number }[] }[];
        participants: { id: string }[];
      };
      expect(m.events).toHaveLength(slice.messages);
      events += m.events.length;
      const ids = new Set(m.participants.map((p) => p.id));
      for (const e of m.events) {
        expect(ids.has(e.participant)).toBe(true);
        bodies.push(e.body);
        // Each attachment is a file of the zip, byte for byte an archived object.
        for (const a of e.attachments ?? []) {
          const bytes = rsmf.files.get(a.id);
          expect(bytes, a.id).toBeDefined();
          expect(bytes!.length).toBe(a.size);
        }
      }
      for (const [name, bytes] of rsmf.files) {
        if (name !== "rsmf_manifest.json") expect(await isArchivedObject(bytes), name).toBe(true);
      }
    }
    expect(events).toBe(rows.length);
    expect(bodies.length).toBe(rows.length);
  }, 180_000);

  /** Whether some archived media object under DATA_DIR/media has exactly these bytes. */
  let archivedHashes: Set<string> | undefined;
  async function isArchivedObject(bytes: Buffer): Promise<boolean> {
    if (archivedHashes === undefined) {
      archivedHashes = new Set();
      for (const path of await filesUnder(join(dataDir, "media"))) {
        archivedHashes.add(sha256(await readFile(join(dataDir, "media", path))));
      }
    }
    return archivedHashes.has(sha256(bytes));
  }

  it("html: pages render in chromium with no request leaving the export's folder; banned marked, missing listed", async () => {
    const { out, run } = await exportTo("html", "html");
    expect(run.code, run.stderr).toBe(0);
    const manifest = await readManifest(out);
    const { chromiumPath, launchChromium } = await import("./support/browser.ts");
    const browser = await launchChromium(chromiumPath());
    try {
      const context = await browser.newContext({ offline: false });
      const page = await context.newPage();
      const folder = pathToFileURL(out).href;
      const inside: string[] = [];
      const outside: string[] = [];
      await context.route("**/*", (route) => {
        const url = route.request().url();
        if (url.startsWith(`${folder}/`)) {
          inside.push(url);
          return route.continue();
        }
        outside.push(url);
        return route.abort();
      });
      // The interception sees a request that leaves the folder (so an empty list below means none did).
      const probe = await context.newPage();
      await probe.goto("http://127.0.0.1:9/probe").catch(() => undefined);
      await probe.close();
      expect(outside).toEqual(["http://127.0.0.1:9/probe"]);
      outside.length = 0;
      await page.goto(`${folder}/index.html`);
      const links = await page.locator("table a").count();
      expect(links).toBe(manifest.slices.length);
      let bubbles = 0;
      for (const slice of manifest.slices) {
        await page.goto(`${folder}/${slice.file}`, { waitUntil: "load" });
        bubbles += await page.locator(".msg").count();
        expect(await page.locator(".msg").count()).toBe(slice.messages);
      }
      expect(bubbles).toBe(rows.length);
      // The pages showed the copied media from the folder (images through <img>).
      expect(inside.some((u) => u.includes("/media/"))).toBe(true);
      expect(outside).toEqual([]);
      const html = (await Promise.all(manifest.slices.map((s) => readFile(join(out, s.file), "utf8")))).join(
        "",
      );
      expect((html.match(/class="banned"/g) ?? []).length).toBeGreaterThan(0);
      expect(html).toContain("Media not in the archive");
      expect(html).toMatch(
        /\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC · \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} Beijing/,
      );
      // Printable: the print layout renders to a PDF.
      const pdf = await page.pdf({ format: "A4" });
      expect(pdf.subarray(0, 5).toString()).toBe("%PDF-");
    } finally {
      await browser.close();
    }
  }, 180_000);

  it("an unknown user is an empty export that says so", async () => {
    const { out, run } = await exportTo("jsonl", "nobody", ["--user", "no-such-user-anywhere"]);

    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/holds no message of user no-such-user-anywhere/);
    const manifest = await readManifest(out);
    expect(manifest.messages).toBe(0);
    expect(manifest.slices).toEqual([]);
    expect(manifest.note).toMatch(/no message of user no-such-user-anywhere/);
  }, 60_000);

  it("a window past the archive, a non-empty or unwritable --out: a clear message, exit 2, nothing written", async () => {
    const later = addHours(to, 24 * 10);
    const past = await runImvault(
      ["export", "--user", user, "--from", later, "--format", "html", "--out", join(outRoot, "past")],
      env,
    );
    expect(past.code).toBe(2);
    expect(past.stderr).toMatch(
      new RegExp(`--from ${later} is past the archive: the message table holds ${from}\\.\\.${to}`),
    );

    const full = join(outRoot, "full");
    await mkdir(full);
    await writeFile(join(full, "keep.txt"), "mine");
    const nonEmpty = await runImvault(["export", "--user", user, "--format", "jsonl", "--out", full], env);
    expect(nonEmpty.code).toBe(2);
    expect(nonEmpty.stderr).toMatch(/is not empty/);

    const blocker = join(outRoot, "a-file");
    await writeFile(blocker, "not a directory");
    const unwritable = await runImvault(
      ["export", "--user", user, "--format", "jsonl", "--out", join(blocker, "out")],
      env,
    );
    expect(unwritable.code).toBe(2);
    expect(unwritable.stderr).toMatch(/--out .*a-file\/out: its parent is not a directory/);

    expect((await readdir(outRoot)).filter((n) => n.startsWith(".") || n === "past").sort()).toEqual([]);
    expect(await readFile(join(full, "keep.txt"), "utf8")).toBe("mine");
    expect(dirname(blocker)).toBe(outRoot);
  }, 60_000);
});
