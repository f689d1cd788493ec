import { DEFAULT_MEDIA_CONFIG, DEFAULTS } from "@imvault/im-core";
import { describe, expect, it } from "vitest";
import { configError, LOCAL_MINIMUM, ok, settingsProbe } from "../testing/settings-probe.ts";
import { mediaConfigFrom } from "./media-config.ts";

/* Media capture's settings from the environment, each case in a fresh process (see settingsProbe). */
const { probe } = settingsProbe();

describe("media settings", () => {
  it("default to im-core's DEFAULTS: 7 days of Tencent retention, DEFAULT_MEDIA_CONFIG's concurrency", async () => {
    const out = await probe(LOCAL_MINIMUM);

    expect(ok(out.loadMediaSettings)).toEqual({ retentionDays: 7, concurrency: 16 });
    expect(DEFAULT_MEDIA_CONFIG.concurrency).toBe(DEFAULTS.mediaConcurrency);
  });

  it("come from IM_MEDIA_RETENTION_DAYS and IM_MEDIA_CONCURRENCY", async () => {
    const out = await probe({ ...LOCAL_MINIMUM, IM_MEDIA_RETENTION_DAYS: "30", IM_MEDIA_CONCURRENCY: " 8 " });

    expect(ok(out.loadMediaSettings)).toEqual({ retentionDays: 30, concurrency: 8 });
  });

  it("name every value out of range at once", async () => {
    const out = await probe({ ...LOCAL_MINIMUM, IM_MEDIA_RETENTION_DAYS: "91", IM_MEDIA_CONCURRENCY: "0" });

    const { message } = configError(out.loadMediaSettings);
    expect(message).toMatch(/IM_MEDIA_RETENTION_DAYS must be an integer from 1 to 90 \(got "91"\)/);
    expect(message).toMatch(/IM_MEDIA_CONCURRENCY must be an integer from 1 to 64 \(got "0"\)/);
  });
});

describe("mediaConfigFrom", () => {
  it("fetches media like history files, signs only COS_URL_HOSTS, at the media concurrency", () => {
    const config = mediaConfigFrom(
      { downloadHosts: ["*.myqcloud.com", "http://127.0.0.1:8080"] },
      { idleTimeoutMs: 5_000, maxAttemptsPerFile: 3, retryBaseDelayMs: 250 },
      { cosUrlHosts: ["*.myqcloud.com"] },
      { concurrency: 2 },
    );

    expect(config).toEqual({
      ...DEFAULT_MEDIA_CONFIG,
      downloadHosts: ["*.myqcloud.com", "http://127.0.0.1:8080"],
      cosHosts: ["*.myqcloud.com"],
      concurrency: 2,
      idleTimeoutMs: 5_000,
      maxAttempts: 3,
      retryBaseDelayMs: 250,
    });
  });
});
