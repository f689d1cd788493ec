import { createCipheriv, randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import {
  configError,
  DEFAULT_HOSTS,
  LOADERS,
  LOCAL_MINIMUM,
  ok,
  SETTINGS_MODULE,
  settingsProbe,
} from "../testing/settings-probe.ts";

/* AWS mode: settings from SST's links, each case in a fresh process (see settingsProbe). */
const { tmp, probe } = settingsProbe();

describe("AWS mode (SST links)", () => {
  const APP = JSON.stringify({ name: "imvault", stage: "test" });
  const links = {
    ImApp: {
      type: "sst.sst.Linkable",
      sdkAppId: 1400000009,
      admin: "administrator",
      region: "sgp",
      baseUrl: "",
      rateLimit: 5,
      lookbackHours: 96,
      settleHours: 8,
      maxAttemptsPerFile: 4,
      downloadHosts: "",
      cosUrlHosts: "",
      mediaRetentionDays: 30,
      mediaConcurrency: 6,
    },
    ImSecretKey: { type: "sst.sst.Secret", value: "aws-secret-key-0009" },
    ApiKeys: { type: "sst.sst.Secret", value: "ops:aws-token-0009-abcdef" },
    ArchiveBucket: {
      type: "sst.sst.Linkable",
      name: "imvault-test-archivestore-abc123",
      retentionMode: "governance",
      retentionDays: 1095,
    },
    DigestKey: { type: "sst.sst.Linkable", keyId: "arn:aws:kms:eu-west-1:123456789012:key/digest" },
    Jobs: {
      type: "sst.sst.Linkable",
      url: "https://sqs.eu-west-1.amazonaws.com/123456789012/imvault-test-JobQueue",
    },
    MessageTable: { type: "sst.sst.Linkable", workgroup: "imvault-test", database: "imvault_test" },
  };
  const asEnv = (resources: Record<string, unknown>) =>
    Object.fromEntries(
      Object.entries(resources).map(([name, value]) => [`SST_RESOURCE_${name}`, JSON.stringify(value)]),
    );
  const expected = {
    loadImConfig: {
      sdkAppId: 1400000009,
      secretKey: "aws-secret-key-0009",
      identifier: "administrator",
      region: "sgp",
      ratePerSecond: 5,
      downloadHosts: DEFAULT_HOSTS,
    },
    loadArchiveConfig: {
      lookbackHours: 96,
      settleHours: 8,
      maxAttemptsPerFile: 4,
      idleTimeoutMs: 30_000,
      retryBaseDelayMs: 1000,
      retentionDays: 7,
    },
    loadMediaSettings: { retentionDays: 30, concurrency: 6 },
    loadStoreConfig: {
      kind: "s3",
      bucket: "imvault-test-archivestore-abc123",
      retention: { mode: "governance", days: 1095 },
    },
    loadEvidenceConfig: { kmsKeyId: "arn:aws:kms:eu-west-1:123456789012:key/digest" },
    loadQueueConfig: { queueUrl: links.Jobs.url },
    loadAthenaConfig: { workgroup: "imvault-test", database: "imvault_test" },
    loadApiConfig: {
      apiKeys: [{ name: "ops", token: "aws-token-0009-abcdef" }],
      cosUrlHosts: ["*.myqcloud.com", "*.tim.qq.com", "*.im.qcloud.com", "*.my-imcloud.com"],
      maxItems: 100,
      maxBodyBytes: 65536,
      lookbackHours: 96,
    },
  };

  it("reads SST_RESOURCE_<Name> JSON and ignores the local variables", async () => {
    const out = await probe({
      SST_RESOURCE_App: APP,
      ...asEnv(links),
      ...LOCAL_MINIMUM,
      ARCHIVE_BUCKET: "not-this-one",
      ATHENA_WORKGROUP: "not-this-one",
      LOOKBACK_HOURS: "1",
      IM_MEDIA_RETENTION_DAYS: "2",
    });

    for (const loader of LOADERS) expect(ok(out[loader])).toEqual(expected[loader]);
  });

  it("reads the encrypted resource.enc a deployed function gets (SST_KEY + SST_KEY_FILE)", async () => {
    // As SST writes it: AES-256-GCM, 12-byte zero nonce, ciphertext then the 16-byte tag.
    const key = randomBytes(32);
    const cipher = createCipheriv("aes-256-gcm", key, Buffer.alloc(12, 0));
    const sealed = Buffer.concat([cipher.update(JSON.stringify(links)), cipher.final(), cipher.getAuthTag()]);
    const dir = mkdtempSync(join(tmp, "task-"));
    writeFileSync(join(dir, "resource.enc"), sealed);

    const out = await probe(
      { SST_RESOURCE_App: APP, SST_KEY: key.toString("base64"), SST_KEY_FILE: "resource.enc" },
      dir,
    );

    for (const loader of LOADERS) expect(ok(out[loader])).toEqual(expected[loader]);
  });

  it("names each resource that is not linked to the function", async () => {
    const out = await probe({ SST_RESOURCE_App: APP, SST_RESOURCE_ImApp: JSON.stringify(links.ImApp) });

    expect(configError(out.loadImConfig).message).toBe(
      "configuration: Resource.ImSecretKey is not linked to this function (link it in sst.config.ts)",
    );
    expect(configError(out.loadStoreConfig).setting).toBe("Resource.ArchiveBucket");
    expect(configError(out.loadQueueConfig).setting).toBe("Resource.Jobs");
    expect(configError(out.loadApiConfig).setting).toBe("Resource.ApiKeys");
    // In AWS searches always run on Athena: its link missing is an error, not a quiet fallback.
    expect(configError(out.loadAthenaConfig).setting).toBe("Resource.MessageTable");
    expect(ok(out.loadArchiveConfig)).toEqual(expected.loadArchiveConfig);
  });

  it("names invalid link properties as Resource.<Name>.<key> without printing a secret", async () => {
    const out = await probe({
      SST_RESOURCE_App: APP,
      ...asEnv({
        ...links,
        ImApp: { ...links.ImApp, sdkAppId: "x", region: "mars", rateLimit: 0, cosUrlHosts: "bad/host" },
        ApiKeys: { type: "sst.sst.Secret", value: "ops:aws-token-0009-abcdef,ops:aws-token-0010-abcdef" },
      }),
    });

    const im = configError(out.loadImConfig);
    expect(im.setting).toBe("Resource.ImApp.sdkAppId, Resource.ImApp.region, Resource.ImApp.rateLimit");
    expect(im.message).not.toContain("aws-secret-key-0009");
    const api = configError(out.loadApiConfig);
    expect(api.setting).toBe("Resource.ApiKeys.value, Resource.ImApp.cosUrlHosts");
    expect(api.message).toContain("Resource.ApiKeys.value entry 2 repeats the name ops of entry 1");
    expect(api.message).not.toMatch(/aws-token-00(09|10)/);
  });

  it("reads Resource.ImApp.retentionDays, and refuses a short token in Resource.ApiKeys without printing it", async () => {
    const out = await probe({
      SST_RESOURCE_App: APP,
      ...asEnv({
        ...links,
        ImApp: { ...links.ImApp, retentionDays: 30 },
        ApiKeys: { type: "sst.sst.Secret", value: "ops:aws-tok-0011" },
      }),
    });

    expect(ok(out.loadArchiveConfig)).toEqual({ ...expected.loadArchiveConfig, retentionDays: 30 });
    const api = configError(out.loadApiConfig);
    expect(api.message).toBe(
      "configuration: Resource.ApiKeys.value entry 1 (ops) has a token shorter than 16 characters",
    );
  });

  it("a link SST cannot parse is a ConfigError that does not echo its value", async () => {
    const out = await probe({ SST_RESOURCE_App: APP, SST_RESOURCE_ImSecretKey: "secret-not-json-0011" });

    const error = configError(out.loadImConfig);
    expect(error.setting).toBe("SST_RESOURCE_* / SST_KEY_FILE");
    expect(error.message).not.toContain("secret-not-json-0011");
  });
});

describe("bundle", () => {
  it("pulls only sst's Resource entry from sst and valibot: no AWS SDK, under 20 KB", async () => {
    const result = await build({
      entryPoints: [fileURLToPath(SETTINGS_MODULE)],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node24",
      minify: true,
      write: false,
      metafile: true,
      logLevel: "silent",
    });

    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((p) => p.includes("node_modules/")).sort()).toEqual([
      "node_modules/sst/dist/resource/node.js",
      "node_modules/sst/dist/resource/shared.js",
      "node_modules/valibot/dist/index.mjs",
    ]);
    expect(result.outputFiles[0]!.contents.byteLength).toBeLessThan(20 * 1024);
  });
});
