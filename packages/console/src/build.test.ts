import { describe, expect, it } from "vitest";
import { buildConsole } from "./build.ts";

describe("buildConsole", () => {
  it("makes a page that loads only its hashed assets: no inline script or style, every asset there", async () => {
    const { site } = await buildConsole(null);

    const refs = [...site.html.matchAll(/(?:src|href)="\/assets\/([^"]+)"/g)].map((m) => m[1]);
    expect(refs).toHaveLength(3);
    for (const name of refs) expect(Object.keys(site.assets)).toContain(name);
    expect(Object.keys(site.assets).every((n) => /^(app|icon)-[A-Z0-9]{8}\.(js|css|svg)$/.test(n))).toBe(
      true,
    );
    expect(site.html).not.toMatch(/<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=/i);
    expect(site.html).toContain("<!--imvault:config-->");
  });

  it("stays small: HTML + JS + CSS under 40 KB gzip (a UI library over ~50 KB would need a reason)", async () => {
    const { sizes } = await buildConsole(null);

    const page = sizes.filter((s) => !s.name.endsWith(".svg")).reduce((n, s) => n + s.gzipBytes, 0);
    expect(page).toBeLessThan(40_000);
  });
});
