/** Debian's chromium through playwright-core, for the console's browser test (test/console.test.ts). */
import { execFileSync } from "node:child_process";
import { type Browser, chromium, type Page } from "playwright-core";

/** Where Debian installed chromium; a missing one fails the test, saying how to install it. */
export function chromiumPath(): string {
  try {
    return execFileSync("which", ["chromium"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error(
      "chromium is not installed: the console's browser test needs Debian's chromium (`apt-get update && apt-get install -y chromium`; .ci/run installs it)",
    );
  }
}

export interface Watch {
  /** Console errors and CSP violations, as text. */
  problems: string[];
}

/** Headless chromium with the flags this machine and CI need (no sandbox as root, no GPU, no network of its own). */
export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/** A fresh tab that records every console error and CSP violation. */
export async function openWatchedPage(
  browser: Browser,
  viewport = { width: 1280, height: 900 },
): Promise<{ page: Page; watch: Watch }> {
  const context = await browser.newContext({ viewport, timezoneId: "Europe/Berlin", locale: "en-GB" });
  const page = await context.newPage();
  const watch: Watch = { problems: [] };
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning")
      watch.problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => watch.problems.push(`page error: ${e.message}`));
  await page.exposeFunction("__cspViolation", (text: string) =>
    watch.problems.push(`CSP violation: ${text}`),
  );
  // Runs in the page before its own scripts (page code is given as text: this file has no DOM types).
  await page.addInitScript({
    content: `document.addEventListener("securitypolicyviolation", (e) =>
      window.__cspViolation(e.violatedDirective + " blocked " + (e.blockedURI || "inline")));`,
  });
  return { page, watch };
}
