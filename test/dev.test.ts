import { createHash } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, startImvault } from "./support/imvault-cli.ts";
import { waitFor } from "./support/wait.ts";

const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");

/** Polls `check` every 200 ms until it answers a value, or fails after `timeoutMs`. */

async function filesUnder(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => e.name);
  } catch {
    return [];
  }
}

describe("imvault dev, started as a user would (npm start)", () => {
  let dataDir: string;
  let dev: ReturnType<typeof startImvault>;
  let api: string;
  let token: string;
  const auth = () => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "imvault-dev-"));
    // A short lookback keeps the demo small: 3 hours x 2 chat types.
    dev = startImvault(
      ["dev"],
      cleanEnv({ PORT: "0", DATA_DIR: dataDir, LOOKBACK_HOURS: "3", SETTLE_HOURS: "1" }),
    );
    api = await waitFor(
      "the API URL",
      30_000,
      () => /^ {2}API {8}(http:\/\/127\.0\.0\.1:\d+)$/m.exec(dev.output())?.[1],
    );
    token = await waitFor("the API key", 5_000, () => /IMVAULT_API_KEY=(\S+)/.exec(dev.output())?.[1]);
  });

  afterAll(async () => {
    if (dev !== undefined && dev.exitCode === null && dev.signalCode === null) {
      dev.kill("SIGKILL");
      await once(dev, "close");
    }
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  it("says where everything is, names the simulator, and prints the key exactly once", () => {
    const out = dev.output();

    expect(out).toMatch(/IM API {5}simulator at http:\/\/127\.0\.0\.1:\d+/);
    expect(out).toContain(`data dir   ${dataDir}`);
    expect(out).toMatch(/queue {6}imvault-jobs on the SQS emulator at http:\/\/127\.0\.0\.1:\d+/);
    expect(out).toMatch(/curl .*Authorization: Bearer \$IMVAULT_API_KEY/);
    expect(out.split(token).length - 1).toBe(1);
  });

  it("seals a digest on the scheduler's run, with the key it makes under DATA_DIR/.imvault", async () => {
    const line = await waitFor(
      "the scheduler's line",
      30_000,
      () => /^scheduler: .*$/m.exec(dev.output())?.[0],
    );

    expect(line).toMatch(/; sealed digests\/000000000001\.json \(\d+ object\(s\)\)$/);
    expect(await filesUnder(join(dataDir, ".imvault"))).toContain("digest-signing-key.pem");
  });

  it("archives the window through the queue: six jobs end archived and their files are on disk", async () => {
    await waitFor("six archived jobs", 45_000, () =>
      (dev.output().match(/\] archived /g) ?? []).length >= 6 ? true : undefined,
    );

    const raw = await filesUnder(join(dataDir, "raw"));
    const manifests = await filesUnder(join(dataDir, "manifests"));
    expect(raw.filter((n) => n.endsWith(".gz"))).toHaveLength(6);
    expect(manifests).toHaveLength(6);
  });

  it("answers health without a key, and status only with one", async () => {
    const [, from, to] = /scheduler: hours (\d{10})\.\.(\d{10})/.exec(dev.output())!;

    const health = await fetch(`${api}/v1/health`);
    const anonymous = await fetch(`${api}/v1/status?hours=4`);
    const status = await fetch(`${api}/v1/status?hours=4`, { headers: auth() });

    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });
    expect(anonymous.status).toBe(401);
    expect(status.status).toBe(200);
    // Four hours, not three: the Beijing hour may turn while the test runs; the scheduler's are archived.
    const { rows } = (await status.json()) as { rows: { msgTime: string; status: string }[] };
    const scheduled = rows.filter((r) => r.msgTime >= from! && r.msgTime <= to!);
    expect(scheduled.map((r) => r.status)).toEqual(Array(6).fill("archived"));
  });

  it("answers a search's bad input with 400 and an unknown search with 404 (the DuckDB module shares the bundle's errors)", async () => {
    const post = (body: unknown) =>
      fetch(`${api}/v1/searches`, {
        method: "POST",
        headers: { ...auth(), "content-type": "application/json" },
        body: JSON.stringify(body),
      });

    const backwards = await post({ user: "u1", from: "2026120400", to: "2026120322" });
    const unknown = await fetch(`${api}/v1/searches/nonexistent`, { headers: auth() });

    expect([backwards.status, ((await backwards.json()) as { error: { code: string } }).error.code]).toEqual([
      400,
      "invalid_request",
    ]);
    expect([unknown.status, ((await unknown.json()) as { error: { code: string } }).error.code]).toEqual([
      404,
      "not_found",
    ]);
  });

  it("serves an archived hour with a signed download URL whose bytes match the manifest", async () => {
    const hour = /scheduler: hours \d{10}\.\.(\d{10})/.exec(dev.output())![1]!;

    const answer = await fetch(`${api}/v1/archive/C2C/${hour}`, { headers: auth() });
    const body = (await answer.json()) as {
      manifest: { files: { key: string; gzipMd5: string; fileMd5: string }[] };
      downloads: { key: string; url: string }[];
    };
    const download = await fetch(body.downloads[0]!.url);
    const gz = Buffer.from(await download.arrayBuffer());
    // Another first character of the signature, whatever it was.
    const tampered = await fetch(
      body.downloads[0]!.url.replace(/sig=(.)/, (_, c: string) => `sig=${c === "A" ? "B" : "A"}`),
    );

    expect(answer.status).toBe(200);
    expect(body.downloads[0]!.url).toMatch(new RegExp(`^${api}/files/raw/`));
    expect(download.status).toBe(200);
    expect(md5(gz)).toBe(body.manifest.files[0]!.gzipMd5);
    expect(md5(gunzipSync(gz))).toBe(body.manifest.files[0]!.fileMd5);
    expect(tampered.status).toBe(403);
  });

  it("looks up FULL_CONTROL signed URLs for a media URL found in an archived history", async () => {
    const manifestDir = join(dataDir, "raw", "chat_type=C2C");
    const [gzName] = (await readdir(manifestDir, { recursive: true })).filter((n) => n.endsWith(".gz"));
    const history = gunzipSync(await readFile(join(manifestDir, gzName!))).toString("utf8");
    const mediaUrl = /https:\/\/[a-z0-9.-]+\.myqcloud\.com\/[^"\\\s]+/.exec(history)?.[0];
    expect(mediaUrl).toBeDefined();

    const answer = await fetch(`${api}/v1/cos-sig`, {
      method: "POST",
      headers: { ...auth(), "content-type": "application/json" },
      body: JSON.stringify({ RawURLs: [{ ResourceID: 7, RawURL: mediaUrl }] }),
    });
    const body = (await answer.json()) as {
      PreSigURLs: { ResourceID: number; StatusText: string; ExpiresAt: string }[];
    };

    expect(answer.status).toBe(200);
    expect(body.PreSigURLs).toHaveLength(1);
    expect(body.PreSigURLs[0]).toMatchObject({ ResourceID: 7 });
    expect(["normal", "banned", "missing"]).toContain(body.PreSigURLs[0]!.StatusText);
    expect(Date.parse(body.PreSigURLs[0]!.ExpiresAt)).toBeGreaterThan(Date.now());
  });

  it("captures the media of the archived hours without being asked, and serves an archived copy's bytes", async () => {
    // Thousands of small objects an hour with the simulator: tens of seconds on a busy machine.
    await waitFor("six media jobs", 100_000, () =>
      (dev.output().match(/\] media /g) ?? []).length >= 6 ? true : undefined,
    );
    const hour = /scheduler: hours \d{10}\.\.(\d{10})/.exec(dev.output())![1]!;

    const view = (await (await fetch(`${api}/v1/archive/C2C/${hour}`, { headers: auth() })).json()) as {
      media: { items: { rawUrl: string; status: string; key?: string; size?: number; sha256?: string }[] };
    };
    const captured = view.media.items.find((i) => i.status === "captured")!;
    const answer = await fetch(`${api}/v1/media?rawUrl=${encodeURIComponent(captured.rawUrl)}`, {
      headers: auth(),
    });
    const facts = (await answer.json()) as {
      key: string;
      size: number;
      sha256: string;
      contentType: string;
      url: string;
    };
    const download = await fetch(facts.url);
    const bytes = Buffer.from(await download.arrayBuffer());
    const unknown = await fetch(
      `${api}/v1/media?rawUrl=${encodeURIComponent(captured.rawUrl.replace(/\.(\w+)$/, "-never-sent.$1"))}`,
      { headers: auth() },
    );
    const status = (await (await fetch(`${api}/v1/status?hours=4`, { headers: auth() })).json()) as {
      rows: { msgTime: string; media?: unknown }[];
    };

    expect(await filesUnder(join(dataDir, "media-manifests"))).toHaveLength(6);
    expect(answer.status).toBe(200);
    expect(facts).toMatchObject({ key: captured.key, size: captured.size, sha256: captured.sha256 });
    expect(facts.url).toMatch(new RegExp(`^${api}/files/media/`));
    expect(download.status).toBe(200);
    expect(download.headers.get("content-type")).toBe(facts.contentType);
    expect([bytes.length, createHash("sha256").update(bytes).digest("hex")]).toEqual([
      facts.size,
      facts.sha256,
    ]);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: "not_found" } });
    expect(status.rows.find((r) => r.msgTime === hour)?.media).toMatchObject({
      captured: expect.any(Number),
    });
  }, 120_000);

  it("runs an export the API was asked for, and tells of it apart from the scheduler's jobs (no counter)", async () => {
    const [, from, to] = /scheduler: hours (\d{10})\.\.(\d{10})/.exec(dev.output())!;
    const posted = await fetch(`${api}/v1/exports`, {
      method: "POST",
      headers: { ...auth(), "content-type": "application/json" },
      body: JSON.stringify({ user: "nobody-at-all", from, to, format: "jsonl" }),
    });
    const { id } = (await posted.json()) as { id: string };

    const line = await waitFor("the export's line", 30_000, () =>
      dev
        .output()
        .split("\n")
        .find((l) => new RegExp(`export\\s+${id}`).test(l)),
    );

    expect(posted.status).toBe(202);
    expect(line).not.toMatch(/^\s*\[\d+\/\d+\]/);
  });

  it("stops on SIGINT with exit code 0, leaving no temp file behind", async () => {
    dev.kill("SIGINT");
    const [code] = (await Promise.race([
      once(dev, "close"),
      new Promise((_, reject) => setTimeout(() => reject(new Error("dev did not stop within 20 s")), 20_000)),
    ])) as [number | null];

    expect(code).toBe(0);
    expect(dev.output()).toMatch(/SIGINT: stopping: no new jobs[\s\S]*stopped\.\n$/);
    expect(await filesUnder(join(dataDir, ".imvault", "tmp"))).toEqual([]);
  });
});
