import { describe, expect, it } from "vitest";
import { cosUrlHostsFor, DEFAULT_COS_URL_HOSTS, DEFAULTS, LIMITS, type Range } from "./limits.ts";

describe("limits", () => {
  it("lets RawURLs name *.myqcloud.com or the IM download hosts by default (SPEC), each once", () => {
    expect(DEFAULT_COS_URL_HOSTS).toEqual([
      "*.myqcloud.com",
      "*.tim.qq.com",
      "*.im.qcloud.com",
      "*.my-imcloud.com",
    ]);
  });

  it("follows the download hosts in effect when they are configured", () => {
    expect(cosUrlHostsFor(["files.example.com", "http://127.0.0.1:8080"])).toEqual([
      "*.myqcloud.com",
      "files.example.com",
      "http://127.0.0.1:8080",
    ]);
  });

  it("keeps every default within its own range", () => {
    const checked: string[] = [];
    for (const [name, range] of Object.entries<number | Range>(LIMITS)) {
      const value = (DEFAULTS as Record<string, unknown>)[name];
      if (typeof range === "number" || typeof value !== "number") continue;
      checked.push(name);
      expect(value, name).toBeGreaterThanOrEqual(range.min);
      expect(value, name).toBeLessThanOrEqual(range.max ?? Number.MAX_SAFE_INTEGER);
    }
    expect(checked).toHaveLength(14);
    expect(DEFAULTS.settleHours).toBeLessThan(DEFAULTS.lookbackHours);
    expect(DEFAULTS.lookbackHours).toBeLessThanOrEqual(LIMITS.maxWindowHours);
  });
});
