/**
 * The web console in a real browser (Debian's chromium, driven by playwright-core) against `imvault
 * dev` on the simulator, after `imvault archive` of a few hours: sign-in (a wrong key refused), the
 * 72-hour heatmap cell by cell against `/v1/status`, an hour's manifest, a banned image looked up
 * through the cos-sig box, 429 and 401 handling, the screens of routes this deployment lacks, a
 * phone's width; no console error and no CSP violation anywhere. Screenshots go to test/screenshots/.
 */
import { once } from "node:events";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { buildConsole, isConsoleBuildCurrent } from "@imvault/console/build";
import { addHours, hourOf, manifestKey } from "@imvault/im-core";
import { type Simulator, startSimulator, TEST_ADMIN, TEST_SDKAPPID, TEST_SECRET_KEY } from "@imvault/im-sim";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumPath, launchChromium, openWatchedPage, type Watch } from "./support/browser.ts";
import { cleanEnv, runImvault, startImvault } from "./support/imvault-cli.ts";
import { clearOfHourTurn, waitFor } from "./support/wait.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SHOTS = join(ROOT, "test/screenshots");
const TOKEN = "console-test-token-0123456789";
/** A real 1×1 PNG: the simulator's media bytes are not a decodable image (see the banned-image test). */
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
      bannedUrls: (url) => banned.has(url),
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
    browser = await launchChromium(executablePath);
    await mkdir(SHOTS, { recursive: true });
  }, 240_000);

  afterAll(async () => {
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
    await page.goto(`${api}/#/coverage?hours=72`);
    await page.reload();
    await page.locator(".heatmap a.cell").nth(143).waitFor();
    const heatmapMs = await page.evaluate(
      () => performance.getEntriesByName("imvault:heatmap")[0]?.startTime,
    );
    const status = (await (await fetch(`${api}/v1/status?hours=72`, { headers: auth })).json()) as {
      rows: { chatType: string; msgTime: string; status: string }[];
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
    await page.screenshot({ path: join(SHOTS, "coverage.png"), fullPage: true });
    // The README's picture is refreshed on request only, so a test run leaves the tree as it was.
    if (process.env.UPDATE_DOCS_SCREENSHOTS === "1") {
      await copyFile(join(SHOTS, "coverage.png"), join(ROOT, "docs/console-coverage.png"));
    }
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

  it("opens an archived hour: its files, sizes, MD5s, message counts and download links", async () => {
    const { page, watch } = await openPage();
    await signIn(page);
    await page.goto(`${api}/#/coverage?hours=72`);
    await page.locator(`a.cell[data-chat-type="Group"][data-msg-time="${archived.from}"]`).click();
    await page.locator("table.files").waitFor();
    const view = (await (
      await fetch(`${api}/v1/archive/Group/${archived.from}`, { headers: auth })
    ).json()) as {
      manifest: { files: { gzipMd5: string; fileMd5: string; messageCount: number }[] };
    };
    const text = (await page.locator("table.files").textContent()) ?? "";
    const href = await page.locator("table.files a[download]").first().getAttribute("href");

    for (const f of view.manifest.files) {
      expect(text).toContain(f.gzipMd5);
      expect(text).toContain(f.fileMd5);
      expect(text).toContain(String(f.messageCount));
    }
    expect(href).toMatch(new RegExp(`^${api}/files/raw/`));
    expect((await fetch(href!)).status).toBe(200);
    await page.screenshot({ path: join(SHOTS, "hour.png"), fullPage: true });
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
    await card.waitFor();
    await card.locator("img").waitFor();
    await expect
      .poll(() =>
        card.locator("img").evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
      )
      .toBe(1);

    expect(served).toEqual({ status: 200, type: expect.stringMatching(/^image\//) });
    expect(await card.locator("img").getAttribute("src")).toMatch(new RegExp(`^${sim.url}/cos/`));
    expect(await card.textContent()).toMatch(/URL expires in 1[45] min/);
    await page.screenshot({ path: join(SHOTS, "banned-media.png"), fullPage: true });
    expect(unexpected(watch)).toEqual([]);
    await page.context().close();
  });

  it("says which screens this deployment does not offer yet, without a failing request", async () => {
    const { page, watch } = await openPage();
    await signIn(page);

    // Search is offered (the OpenAPI document has /v1/searches): its form, with the window required.
    await page.goto(`${api}/#/search`);
    await page.locator(".search-form").waitFor();
    const notAvailableOnSearch = await page.locator(".not-available").count();
    const windowRequired = await page.locator("#f-from[required], #f-to[required]").count();
    await page.screenshot({ path: join(SHOTS, "search.png") });
    await page.goto(`${api}/#/integrity`);
    await page.locator(".not-available").waitFor();
    const integrity = await page.locator(".not-available").textContent();
    await page.screenshot({ path: join(SHOTS, "integrity.png") });

    expect([notAvailableOnSearch, windowRequired]).toEqual([0, 2]);
    expect(integrity).toMatch(/digest chain is not available on this deployment yet/);
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

  it("fits a phone's width (the heatmap scrolls inside its box)", async () => {
    const { page, watch } = await openPage({ width: 390, height: 844 });
    await signIn(page);
    await page.locator(".heatmap a.cell").first().waitFor();

    const overflow = await page.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth");
    await page.screenshot({ path: join(SHOTS, "coverage-phone.png"), fullPage: true });

    expect(overflow).toBeLessThanOrEqual(0);
    expect(unexpected(watch)).toEqual([]);
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
