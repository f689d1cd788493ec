/**
 * The web console in a real browser (Debian's chromium, driven by playwright-core) against `imvault
 * dev` on the simulator, after `imvault archive` of a few hours: sign-in (a wrong key refused), the
 * 72-hour heatmap cell by cell against `/v1/status` (media marks too), an hour's manifest and media,
 * the banned media of the window previewed from their archived copies, a banned image looked up
 * through the cos-sig box, a user's conversations found by search, the digest chain's head, 429 and
 * 401 handling, a phone's width; no console error and no CSP violation anywhere. Screenshots go to a
 * temp dir (printed); UPDATE_DOCS_SCREENSHOTS=1 copies them to docs/.
 */
import { once } from "node:events";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { buildConsole, isConsoleBuildCurrent } from "@imvault/console/build";
import { addHours, hourOf, type MediaCounts, manifestKey } from "@imvault/im-core";
import { type Simulator, startSimulator, TEST_ADMIN, TEST_SDKAPPID, TEST_SECRET_KEY } from "@imvault/im-sim";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumPath, launchChromium, openWatchedPage, type Watch } from "./support/browser.ts";
import { cleanEnv, runImvault, startImvault } from "./support/imvault-cli.ts";
import { clearOfHourTurn, waitFor } from "./support/wait.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SHOTS = join(tmpdir(), "imvault-console-screenshots");
/** The screenshots docs/ keeps (README shows the coverage one), refreshed with UPDATE_DOCS_SCREENSHOTS=1. */
const DOCS_SHOTS = [
  "coverage",
  "hour",
  "banned-media",
  "search",
  "integrity",
  "coverage-phone",
  "search-phone",
];
const TOKEN = "console-test-token-0123456789";
/** A real 1×1 PNG: the simulator's JPEG bytes are not a decodable image (see the cos-sig test). */
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  "base64",
);

describe("the web console in chromium, against imvault dev on the simulator", () => {
  let sim: Simulator;
  let dataDir: string;
  let dev: ReturnType<typeof startImvault>;
  let api: string;
  let browser: Browser;
  const banned = new Set<string>();
  const now = Date.now();
  const archived = { from: addHours(hourOf(now), -12), to: addHours(hourOf(now), -9) };
  const corruptHour = addHours(hourOf(now), -20);
  const expiredHour = addHours(hourOf(now), -30);
  const auth = { authorization: `Bearer ${TOKEN}` };

  beforeAll(async () => {
    const executablePath = chromiumPath();
    if (!isConsoleBuildCurrent()) await buildConsole();
    // The hours below are relative to now: keep the Beijing hour from turning during the test.
    await clearOfHourTurn(4 * 60_000);
    sim = await startSimulator({
      seed: "console",
      processingDelayMinutes: 0,
      volume: 120,
      // Every PNG is banned (the simulator's PNGs are real images a browser shows), and what a test adds.
      bannedUrls: (url) => banned.has(url) || new URL(url).pathname.endsWith(".png"),
      bannedFraction: 0,
    });
    dataDir = await mkdtemp(join(tmpdir(), "imvault-console-"));
    const env = cleanEnv({
      IM_SDKAPPID: String(TEST_SDKAPPID),
      IM_ADMIN: TEST_ADMIN,
      IM_SECRET_KEY: TEST_SECRET_KEY,
      IM_BASE_URL: sim.url,
      DATA_DIR: dataDir,
      PORT: "0",
      LOOKBACK_HOURS: "3",
      SETTLE_HOURS: "1",
      API_KEYS: `ops:${TOKEN}`,
      // The audit lines of lookups are info lines: shown, so the tests can see each view audited.
      POWERTOOLS_LOG_LEVEL: "INFO",
    });
    const run = await runImvault(["archive", "--from", archived.from, "--to", archived.to], env);
    expect(run.code, run.stderr).toBe(0);
    // Two states the simulator does not make on its own: a manifest that cannot be read, an expired hour.
    const put = async (key: string, text: string) => {
      await mkdir(dirname(join(dataDir, key)), { recursive: true });
      await writeFile(join(dataDir, key), text);
    };
    await put(manifestKey("C2C", corruptHour), "{ not a manifest");
    await put(
      manifestKey("Group", expiredHour),
      JSON.stringify({
        version: 1,
        chatType: "Group",
        msgTime: expiredHour,
        status: "expired",
        files: [],
        archivedAt: new Date().toISOString(),
      }),
    );
    dev = startImvault(["dev"], env);
    api = await waitFor(
      "the API URL",
      30_000,
      () => /^ {2}API {8}(http:\/\/127\.0\.0\.1:\d+)$/m.exec(dev.output())?.[1],
    );
    // The first run archives the window and then captures its media: minutes on a busy machine.
    await waitFor("dev's first jobs", 180_000, () =>
      /jobs of this run handled/.test(dev.output()) ? true : undefined,
    );
    // A verification of the chain dev sealed, for the integrity panel (its verdict is whatever it is:
    // the corrupt manifest above is reported).
    await runImvault(["verify"], env);
    browser = await launchChromium(executablePath);
    await mkdir(SHOTS, { recursive: true });
    console.log(`console: screenshots in ${SHOTS}`);
  }, 300_000);

  afterAll(async () => {
    // The pictures docs/ keeps are refreshed on request only, so a test run leaves the tree as it was.
    if (process.env.UPDATE_DOCS_SCREENSHOTS === "1") {
      for (const name of DOCS_SHOTS)
        await copyFile(join(SHOTS, `${name}.png`), join(ROOT, `docs/console-${name}.png`));
    }
    await browser?.close();
    if (dev !== undefined && dev.exitCode === null && dev.signalCode === null) {
      dev.kill("SIGINT");
      await once(dev, "close");
    }
    await sim?.close();
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  const openPage = (viewport?: { width: number; height: number }) => openWatchedPage(browser, viewport);

  async function signIn(page: Page, key = TOKEN): Promise<void> {
    await page.goto(`${api}/`);
    await page.getByLabel("API key").fill(key);
    await page.getByRole("button", { name: "Sign in" }).click();
  }

  /** The problems other than the failed loads `allowed` names (e.g. the 401 a wrong key gets). */
  const unexpected = (watch: Watch, allowed: RegExp[] = []) =>
    watch.problems.filter((p) => !allowed.some((re) => re.test(p)));

  it("refuses a wrong key and keeps nothing of it", async () => {
    const { page, watch } = await openPage();

    await signIn(page, "not-the-right-key-0123456789");

    await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/This key was refused/);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(await page.locator(".heatmap").count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, "sign-in-refused.png") });
    expect(unexpected(watch, [/status of 401/])).toEqual([]);
    await page.context().close();
  });

  it("signs in and draws the 72-hour heatmap, every cell as /v1/status says", async () => {
    const { page, watch } = await openPage();
    await signIn(page);
    await page.locator(".heatmap").waitFor();

    // A fresh load of the 72-hour window with the key in the tab: the time to the heatmap.
    // (Leaving the page first: a hash change on it would ask for the status too, and a reload would
    // discard that answer's body while it is being waited for.)
    await page.goto("about:blank");
    // The answer the page drew (dev may still be capturing media: a later request could differ).
    const answered = page.waitForResponse((r) => r.url().endsWith("/v1/status?hours=72"));
    await page.goto(`${api}/#/coverage?hours=72`);
    await page.locator(".heatmap a.cell").nth(143).waitFor();
    const heatmapMs = await page.evaluate(
      () => performance.getEntriesByName("imvault:heatmap")[0]?.startTime,
    );
    const status = (await (await answered).json()) as {
      rows: {
        chatType: string;
        msgTime: string;
        status: string;
        media?: MediaCounts | "pending" | "corrupt";
      }[];
    };
    const cells = await page.$$eval(".heatmap a.cell", (as) =>
      as.map((a) => `${a.dataset.chatType} ${a.dataset.msgTime} ${a.dataset.status}`),
    );
    console.log(`console: time to the 72-hour heatmap ${heatmapMs?.toFixed(0)} ms after navigation start`);

    expect(cells.sort()).toEqual(status.rows.map((r) => `${r.chatType} ${r.msgTime} ${r.status}`).sort());
    expect(cells).toContain(`C2C ${corruptHour} corrupt`);
    expect(cells).toContain(`Group ${expiredHour} expired`);
    expect(
      await page.locator(`a.cell[data-msg-time="${archived.from}"][data-state="archived"]`).count(),
    ).toBe(2);
    // Older hours, past settle and not archived, are called out with Tencent's deadline.
    await expect.poll(() => page.locator(".notice.risk h2").textContent()).toMatch(/hours at risk/);
    expect(heatmapMs).toBeGreaterThan(0);
    // Archived hours carry their media's mark, as their status row's media say.
    const marks = await page.$$eval(".heatmap a.cell[data-media]", (as) =>
      as.map((a) => `${a.dataset.chatType} ${a.dataset.msgTime} ${a.dataset.media}`),
    );
    const mark = (m: MediaCounts | "pending" | "corrupt") =>
      typeof m === "string"
        ? m
        : m.missing + m.refused > 0
          ? "some-missing"
          : m.captured > 0
            ? "captured"
            : "none";
    expect(marks.sort()).toEqual(
      status.rows
        .flatMap((r) => (r.media === undefined ? [] : [`${r.chatType} ${r.msgTime} ${mark(r.media)}`]))
        .sort(),
    );
    expect(marks.length).toBeGreaterThan(0);
    await page.screenshot({ path: join(SHOTS, "coverage.png"), fullPage: true });
    expect(unexpected(watch)).toEqual([]);
    await page.context().close();
  });

  it("moves through the heatmap with the arrow keys (one tab stop) and opens an hour with Enter", async () => {
    const { page, watch } = await openPage();
    await signIn(page);
    await page.goto(`${api}/#/coverage?hours=72`);
    await page.locator(".heatmap a.cell").nth(143).waitFor();
    const focused = () =>
      page.evaluate<{ row: number; col: number; hour: string; chat: string }>(
        `(({ dataset: d }) => ({ row: Number(d.row), col: Number(d.col), hour: d.msgTime, chat: d.chatType }))(document.activeElement)`,
      );
    const tabStops = await page.locator(".heatmap a.cell[tabindex='0']").count();

    // Tab from the window selector, past the button and the at-risk links, to the grid's one tab stop.
    await page.locator("#window").focus();
    for (
      let i = 0;
      i < 30 && !(await page.evaluate<boolean>(`document.activeElement?.matches("a.cell") === true`));
      i++
    ) {
      await page.keyboard.press("Tab");
    }
    const first = await focused();
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("ArrowDown"); // the day before: a whole day of cells
    const below = await focused();
    await page.keyboard.press("ArrowRight");
    const right = await focused();
    await page.keyboard.press("Enter");
    await page.locator("#hour-title").waitFor();

    expect(tabStops).toBe(1);
    expect(first.row).toBe(0);
    expect(below).toMatchObject({ row: 2, col: first.col });
    expect(right).toMatchObject({ row: 2, col: first.col + 1 });
    expect(page.url()).toContain(`#/hour/${right.chat}/${right.hour}`);
    // The hour may not be archived: its 404 is the answer the screen shows.
    expect(unexpected(watch, [/status of 404/])).toEqual([]);
    await page.context().close();
  });

  it("opens an archived hour: its files, sizes, MD5s, message counts, download links and media", async () => {
    const { page, watch } = await openPage();
    await signIn(page);
    await page.goto(`${api}/#/coverage?hours=72`);
    await page.locator(`a.cell[data-chat-type="Group"][data-msg-time="${archived.from}"]`).click();
    await page.locator("table.files").waitFor();
    const view = (await (
      await fetch(`${api}/v1/archive/Group/${archived.from}`, { headers: auth })
    ).json()) as {
      manifest: { files: { gzipMd5: string; fileMd5: string; messageCount: number }[] };
      media: { items: { rawUrl: string; status: string; tencentStatus?: number }[] };
    };
    const text = (await page.locator("table.files").textContent()) ?? "";
    const href = await page.locator("table.files a[download]").first().getAttribute("href");
    // Every captured item's archived copy is looked up as it comes into view: scroll them all in.
    for (const card of await page.locator(".media-item").all()) await card.scrollIntoViewIfNeeded();
    await expect
      .poll(() => page.locator('.media-item .archived-media:not([data-state="done"])').count(), {
        timeout: 30_000,
      })
      .toBe(0);
    const states = await page.$$eval(".media-item", (lis) =>
      lis.map((li) => li.getAttribute("data-media-state")),
    );
    const images = await page.$$eval(".media-item img", (imgs) =>
      imgs.map((img) => ({
        src: img.getAttribute("src") ?? "",
        width: (img as unknown as { naturalWidth: number }).naturalWidth,
      })),
    );

    for (const f of view.manifest.files) {
      expect(text).toContain(f.gzipMd5);
      expect(text).toContain(f.fileMd5);
      expect(text).toContain(String(f.messageCount));
    }
    expect(href).toMatch(new RegExp(`^${api}/files/raw/`));
    expect((await fetch(href!)).status).toBe(200);
    expect(states).toEqual(
      view.media.items.map((i) =>
        i.status === "captured" ? (i.tencentStatus === 1 ? "banned" : "captured") : i.status,
      ),
    );
    expect(states).toContain("banned");
    // Previews come from the archived copies (the API's short-lived URLs), never from Tencent, and
    // every image the browser can decode shows (the simulator's PNGs and GIFs: 8×8; its JPEGs are
    // noise, and their cards say the browser cannot display them).
    expect(images.length).toBeGreaterThan(0);
    for (const img of images) expect(img.src).toMatch(new RegExp(`^${api}/files/media/`));
    const ext = (src: string) => new URL(src).pathname.split(".").at(-1);
    await expect
      .poll(async () =>
        (
          await page.$$eval(".media-item img", (imgs) =>
            imgs.map((img) => ({
              src: (img as unknown as { src: string }).src,
              width: (img as unknown as { naturalWidth: number }).naturalWidth,
            })),
          )
        ).map((i) => `${ext(i.src)} ${i.width}`),
      )
      .toEqual(images.filter((i) => ext(i.src) !== "jpg").map((i) => `${ext(i.src)} 8`));
    await page.evaluate("window.scrollTo(0, 0)");
    await page.screenshot({ path: join(SHOTS, "hour.png") });
    expect(unexpected(watch)).toEqual([]);
    await page.context().close();
  });

  it("lists the window's banned media and previews each from its archived copy, every view audited", async () => {
    const { page, watch } = await openPage();
    await signIn(page);
    const answered = page.waitForResponse((r) => r.url().includes("/v1/media/banned?"));
    await page.goto(`${api}/#/media`);
    const listing = (await (await answered).json()) as { items: { rawUrl: string }[] };
    await page.locator(".banned-item").first().waitFor();
    const first = page.locator(".banned-item").first();
    await first.locator("img").waitFor();
    await expect
      .poll(() =>
        first.locator("img").evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
      )
      .toBe(8);
    const firstCards = await page.locator(".banned-item").count();
    const more = page.getByRole("button", { name: /^Show the other \d+$/ });
    if (listing.items.length > firstCards) await more.click();
    const shown = await page.$$eval(".banned-item .url", (ps) => ps.map((p) => p.getAttribute("title")));

    expect(shown).toEqual(listing.items.map((i) => i.rawUrl));
    expect(firstCards).toBe(Math.min(listing.items.length, 24));
    expect(listing.items.every((i) => i.rawUrl.endsWith(".png"))).toBe(true);
    expect(await first.locator("img").getAttribute("src")).toMatch(new RegExp(`^${api}/files/media/`));
    // The listing and the preview's lookup are each one audit line under the key's name (ops).
    await expect
      .poll(() => /"message":"banned media listing".*"keyName":"ops"/.test(dev.output()))
      .toBe(true);
    await expect.poll(() => /"message":"media lookup".*"keyName":"ops"/.test(dev.output())).toBe(true);
    await page.evaluate("window.scrollTo(0, 0)");
    await expect.poll(() => page.locator('.archived-media[data-state="loading"]').count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, "banned-media.png") });
    expect(unexpected(watch)).toEqual([]);
    await page.context().close();
  });

  it("looks up a banned image through the cos-sig box and previews it from its PreSigURL", async () => {
    const image = await anImageUrl(dataDir);
    banned.add(image);
    const { page, watch } = await openPage();
    await signIn(page);
    await page.goto(`${api}/#/media`);
    // The simulator's bytes are the image's magic bytes and noise; once its answer is checked, the
    // browser gets a real PNG so the preview shows what an operator sees.
    let served: { status: number; type: string } | undefined;
    await page.route(`${sim.url}/cos/**`, async (route) => {
      const response = await route.fetch();
      served = { status: response.status(), type: response.headers()["content-type"] ?? "" };
      await route.fulfill({ response, body: PNG, contentType: "image/png" });
    });

    await page.getByRole("textbox", { name: /COS URLs/ }).fill(`${image}\n`);
    await page.getByRole("button", { name: "Look up" }).click();
    const card = page.locator('.cos-result[data-status-text="banned"]');
    // get_cos_sig shares dev's rate limiter with the media capture still running beside it.
    await card.waitFor({ timeout: 90_000 });
    await card.locator("img").waitFor();
    await expect
      .poll(() =>
        card.locator("img").evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
      )
      .toBe(1);

    expect(served).toEqual({ status: 200, type: expect.stringMatching(/^image\//) });
    expect(await card.locator("img").getAttribute("src")).toMatch(new RegExp(`^${sim.url}/cos/`));
    expect(await card.textContent()).toMatch(/URL expires in 1[45] min/);
    await page.screenshot({ path: join(SHOTS, "cos-sig.png"), fullPage: true });
    expect(unexpected(watch)).toEqual([]);
    await page.context().close();
  });

  it("searches a user's messages and shows them as conversations, with both times and media inline", async () => {
    const user = await aSender(api, auth);
    const { page, watch } = await openPage();
    await signIn(page);
    await page.goto(`${api}/#/search`);
    await page.getByLabel("User (sent or received)").fill(user);
    const answered = page.waitForResponse(
      (r) => /\/v1\/searches\/[^/?]+$/.test(r.url()) && r.status() === 200,
    );
    await page.getByRole("button", { name: "Search" }).click();
    await answered;
    await page.locator(".conversation").first().waitFor({ timeout: 60_000 });
    const rows = await searchRows(api, auth, { user });
    const bubbles = await page.locator(".bubble").count();
    const who = await page.$$eval(".bubble .who", (ps) => ps.map((p) => p.textContent));
    const when = (await page.locator(".bubble .when").first().textContent()) ?? "";
    const withMedia = rows.filter((r) => (r.media_urls as string[]).length > 0).length;

    expect(rows.length).toBeGreaterThan(0);
    expect(bubbles).toBe(Math.min(rows.length, 500));
    // C2C: the user sent or received each message; Group: the user sent it.
    expect(rows.every((r) => r.from_account === user || r.to_account === user)).toBe(true);
    expect(new Set(who)).toEqual(new Set(rows.slice(0, 500).map((r) => r.from_account)));
    expect(when).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d CET · \d{4}-\d\d-\d\d \d\d:\d\d:\d\d Beijing/);
    if (withMedia > 0) expect(await page.locator(".bubble .archived-media").count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(SHOTS, "search.png"), fullPage: false });
    // A message's media URL whose bytes were not captured (missing or refused) is the API's 404.
    expect(unexpected(watch, [/status of 404/])).toEqual([]);
    await page.context().close();
  });

  it("shows the digest chain's head and the last verification as /v1/status reports them", async () => {
    const { page, watch } = await openPage();
    await signIn(page);
    await page.goto(`${api}/#/integrity`);
    await page.locator('[data-testid="chain-head"]').waitFor();
    const { evidence } = (await (await fetch(`${api}/v1/status?hours=1`, { headers: auth })).json()) as {
      evidence: { head: { key: string; seq: number }; lastVerified: { ok: boolean; summary: string } | null };
    };
    const head = await page.locator('[data-testid="chain-head"]').textContent();
    const verified = await page.locator('[data-testid="last-verified"]').textContent();

    expect(evidence.head).not.toBeNull();
    expect(head).toContain(`#${evidence.head.seq}`);
    expect(head).toContain(evidence.head.key);
    expect(evidence.lastVerified).not.toBeNull();
    expect(verified).toContain(evidence.lastVerified!.ok ? "passed" : "failed");
    expect(verified).toContain(evidence.lastVerified!.summary);
    await page.screenshot({ path: join(SHOTS, "integrity.png") });
    expect(unexpected(watch)).toEqual([]);
    await page.context().close();
  });

  it("waits out a 429 (Retry-After) and retries; a 401 later signs the tab out", async () => {
    const { page, watch } = await openPage();
    await signIn(page);
    await page.locator(".heatmap").waitFor();
    let limited = 0;
    await page.route("**/v1/status?hours=24", async (route) => {
      if (limited++ === 0) {
        await route.fulfill({
          status: 429,
          headers: { "retry-after": "1", "content-type": "application/json" },
          body: JSON.stringify({ error: { code: "rate_limited", message: "slow down" } }),
        });
      } else await route.continue();
    });

    await page.goto(`${api}/#/coverage?hours=24`);
    await page.locator(".notice.wait").waitFor();
    await page.locator(".heatmap a.cell").nth(47).waitFor();
    await page.route("**/v1/status?hours=72", (route) =>
      route.fulfill({
        status: 401,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ error: { code: "unauthorized", message: "unknown API key" } }),
      }),
    );
    await page.goto(`${api}/#/coverage?hours=72`);
    await page.getByLabel("API key").waitFor();

    expect(limited).toBe(2);
    expect(await page.locator(".signin .notice").textContent()).toMatch(/Signed out: .*unknown API key/);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(unexpected(watch, [/status of 429/, /status of 401/])).toEqual([]);
    await page.context().close();
  });

  it("fits a phone's width on every screen (the heatmap and file table scroll inside their boxes)", async () => {
    const { page, watch } = await openPage({ width: 390, height: 844 });
    await signIn(page);
    await page.locator(".heatmap a.cell").first().waitFor();
    const overflow = () => page.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth");
    const widths: Record<string, number> = { coverage: await overflow() };
    await page.screenshot({ path: join(SHOTS, "coverage-phone.png"), fullPage: true });
    for (const [name, hash, ready] of [
      ["hour", `#/hour/Group/${archived.from}`, "table.files"],
      ["banned-media", "#/media", ".banned-item img"],
      ["integrity", "#/integrity", '[data-testid="chain-head"]'],
    ] as const) {
      await page.goto(`${api}/${hash}`);
      await page.locator(ready).first().waitFor();
      widths[name] = await overflow();
      await page.screenshot({ path: join(SHOTS, `${name}-phone.png`), fullPage: name !== "hour" });
    }
    await page.goto(`${api}/#/search`);
    await page.getByLabel("User (sent or received)").fill(await aSender(api, auth));
    await page.getByRole("button", { name: "Search" }).click();
    await page.locator(".conversation").first().waitFor({ timeout: 60_000 });
    widths.search = await overflow();
    await page.evaluate(`document.querySelector(".conversations").scrollIntoView()`);
    await expect.poll(() => page.locator('.archived-media[data-state="loading"]').count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, "search-phone.png") });

    expect(widths).toEqual({ coverage: 0, hour: 0, "banned-media": 0, integrity: 0, search: 0 });
    expect(unexpected(watch, [/status of 404/])).toEqual([]);
    await page.context().close();
  });

  it("enforces its Content-Security-Policy, and the test sees a violation when one happens", async () => {
    const { page, watch } = await openPage();
    const answer = await page.goto(`${api}/`);
    await page.getByLabel("API key").waitFor();

    await page.evaluate(`{
      const script = document.createElement("script");
      script.textContent = "document.title = 'inline ran'";
      document.head.append(script);
    }`);

    await expect.poll(() => watch.problems.some((p) => /CSP violation: script-src/.test(p))).toBe(true);
    expect(await page.title()).toBe("imvault console");
    expect(answer?.headers()["content-security-policy"]).toMatch(/default-src 'self'; script-src 'self'/);
    await page.context().close();
  });
});

/** The most active sender of images in the archived history, found by searches through the API. */
async function aSender(api: string, auth: Record<string, string>): Promise<string> {
  const images = new Set((await searchRows(api, auth, { type: "TIMImageElem" })).map((r) => r.from_account));
  const counts = new Map<string, number>();
  for (const r of await searchRows(api, auth, {})) {
    if (images.has(r.from_account))
      counts.set(String(r.from_account), (counts.get(String(r.from_account)) ?? 0) + 1);
  }
  const user = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0];
  if (user === undefined) throw new Error("no message with an image in the message table");
  return user;
}

/** A search's first page of rows through the API (POST /v1/searches, then GET until it is done). */
async function searchRows(
  api: string,
  auth: Record<string, string>,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>[]> {
  const started = await fetch(`${api}/v1/searches`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    // The window the search screen starts with (the last seven days), which the API requires.
    body: JSON.stringify({ from: hourOf(Date.now() - 7 * 24 * 3600_000), to: hourOf(Date.now()), ...body }),
  });
  expect(started.status).toBe(202);
  const { id } = (await started.json()) as { id: string };
  return waitFor("the search", 60_000, async () => {
    const page = (await (await fetch(`${api}/v1/searches/${id}`, { headers: auth })).json()) as {
      state: string;
      rows: Record<string, unknown>[];
    };
    return page.state === "running" ? undefined : page.rows;
  });
}

/** An image RawURL from the archived history (the simulator puts COS URLs in its messages). */
async function anImageUrl(dataDir: string): Promise<string> {
  const raw = join(dataDir, "raw");
  for (const name of await readdir(raw, { recursive: true })) {
    if (!name.endsWith(".gz")) continue;
    const text = gunzipSync(await readFile(join(raw, name))).toString("utf8");
    const url = /https:\/\/[a-z0-9.-]+\.myqcloud\.com\/[^"\\\s]+\.(?:jpg|png)/.exec(text)?.[0];
    if (url !== undefined) return url;
  }
  throw new Error("no image URL in the archived history");
}
