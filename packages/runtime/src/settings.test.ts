import { execFile } from "node:child_process";
import { createCipheriv, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";

/*
 * SST's Resource proxy reads its links once per process (and keeps them on globalThis), exactly as a
 * Lambda container does. So each case runs the loaders in a fresh Node process with a clean
 * environment: the probe imports settings.ts FIRST and only then applies the case's environment, which
 * also proves that importing the module reads nothing.
 */
const CONFIG = new URL("./settings.ts", import.meta.url).href;
const LOADERS = [
  "loadImConfig",
  "loadArchiveConfig",
  "loadStoreConfig",
  "loadQueueConfig",
  "loadApiConfig",
] as const;
type Loader = (typeof LOADERS)[number];
type Outcome = { ok: unknown } | { error: { name: string; message: string; setting?: string } };

const PROBE = `
const [url, envJson] = process.argv.slice(1);
const mod = await import(url);
Object.assign(process.env, JSON.parse(envJson));
const out = {};
for (const name of ${JSON.stringify(LOADERS)}) {
  try { out[name] = { ok: mod[name]() }; }
  catch (e) { out[name] = { error: { name: e.name, message: e.message, setting: e.setting } }; }
}
process.stdout.write(JSON.stringify(out));
`;

const tmp = mkdtempSync(join(tmpdir(), "imvault-config-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function probe(env: Record<string, string>, cwd = tmp): Promise<Record<Loader, Outcome>> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--input-type=module", "-e", PROBE, CONFIG, JSON.stringify(env)],
    { env: { PATH: process.env.PATH ?? "" }, cwd, timeout: 20_000 },
  );
  return JSON.parse(stdout) as Record<Loader, Outcome>;
}

function ok(outcome: Outcome): unknown {
  if ("error" in outcome)
    throw new Error(`expected a value, got ${outcome.error.name}: ${outcome.error.message}`);
  return outcome.ok;
}

function configError(outcome: Outcome): { message: string; setting: string } {
  if (!("error" in outcome)) throw new Error(`expected a ConfigError, got ${JSON.stringify(outcome.ok)}`);
  expect(outcome.error.name).toBe("ConfigError");
  return { message: outcome.error.message, setting: outcome.error.setting ?? "" };
}

const LOCAL_MINIMUM = {
  IM_SDKAPPID: "1400000001",
  IM_SECRET_KEY: "local-secret-key-0001",
  API_KEYS: "ops:ops-token-0001",
  JOBS_QUEUE_URL: "http://127.0.0.1:9324/000000000000/jobs",
};
const DEFAULT_HOSTS = ["*.tim.qq.com", "*.im.qcloud.com", "*.my-imcloud.com", "*.myqcloud.com"];

/** SPEC's archive defaults, as loadArchiveConfig answers them when nothing is set. */
const ARCHIVE_DEFAULTS = {
  lookbackHours: 72,
  settleHours: 6,
  maxAttemptsPerFile: 5,
  downloadIdleTimeoutMs: 30_000,
  retryBaseDelayMs: 1000,
  retentionDays: 7,
};

describe("local mode (environment)", () => {
  it("reads nothing at import and fills SPEC's defaults for everything optional", async () => {
    const out = await probe(LOCAL_MINIMUM);

    expect(ok(out.loadImConfig)).toEqual({
      sdkAppId: 1400000001,
      secretKey: "local-secret-key-0001",
      identifier: "administrator",
      region: "cn",
      ratePerSecond: 10,
      downloadHosts: DEFAULT_HOSTS,
    });
    expect(ok(out.loadArchiveConfig)).toEqual(ARCHIVE_DEFAULTS);
    expect(ok(out.loadStoreConfig)).toEqual({ kind: "local", dataDir: join(tmp, "data") });
    expect(ok(out.loadQueueConfig)).toEqual({ queueUrl: LOCAL_MINIMUM.JOBS_QUEUE_URL });
    expect(ok(out.loadApiConfig)).toEqual({
      apiKeys: [{ name: "ops", token: "ops-token-0001" }],
      cosUrlHosts: ["*.myqcloud.com", "*.tim.qq.com", "*.im.qcloud.com", "*.my-imcloud.com"],
      maxItems: 100,
      maxBodyBytes: 65536,
    });
  });

  it("takes every setting from its variable; IM_BASE_URL's origin joins both allow-lists", async () => {
    const out = await probe({
      ...LOCAL_MINIMUM,
      IM_ADMIN: "ops_admin",
      IM_REGION: "sgp",
      IM_BASE_URL: "http://127.0.0.1:8080/",
      IM_RATE_LIMIT: "2.5",
      IM_DOWNLOAD_HOSTS: " Files.Example.com , *.cdn.example.com ",
      COS_URL_HOSTS: "cos.example.com",
      LOOKBACK_HOURS: "168",
      SETTLE_HOURS: "12",
      MAX_ATTEMPTS_PER_FILE: "3",
      DATA_DIR: "/srv/imvault",
      API_KEYS: "ops:t1, ci-bot:t2:with-colon",
      API_MAX_ITEMS: "50",
      API_MAX_BODY_BYTES: "32768",
      DOWNLOAD_IDLE_TIMEOUT_SECONDS: "2.5",
      RETRY_BASE_DELAY_MS: "250",
      AWS_ENDPOINT_URL_SQS: "http://127.0.0.1:9324",
    });

    expect(ok(out.loadImConfig)).toEqual({
      sdkAppId: 1400000001,
      secretKey: "local-secret-key-0001",
      identifier: "ops_admin",
      region: "sgp",
      baseUrl: "http://127.0.0.1:8080",
      ratePerSecond: 2.5,
      downloadHosts: ["files.example.com", "*.cdn.example.com", "http://127.0.0.1:8080"],
    });
    expect(ok(out.loadArchiveConfig)).toEqual({
      lookbackHours: 168,
      settleHours: 12,
      maxAttemptsPerFile: 3,
      downloadIdleTimeoutMs: 2500,
      retryBaseDelayMs: 250,
      retentionDays: 7,
    });
    expect(ok(out.loadStoreConfig)).toEqual({ kind: "local", dataDir: "/srv/imvault" });
    expect(ok(out.loadQueueConfig)).toEqual({
      queueUrl: LOCAL_MINIMUM.JOBS_QUEUE_URL,
      endpoint: "http://127.0.0.1:9324",
    });
    expect(ok(out.loadApiConfig)).toEqual({
      apiKeys: [
        { name: "ops", token: "t1" },
        { name: "ci-bot", token: "t2:with-colon" },
      ],
      cosUrlHosts: ["cos.example.com"],
      maxItems: 50,
      maxBodyBytes: 32768,
    });
  });

  it("ARCHIVE_BUCKET selects the S3 store, with AWS_ENDPOINT_URL_S3 when given", async () => {
    const out = await probe({
      ...LOCAL_MINIMUM,
      ARCHIVE_BUCKET: "imvault-local",
      AWS_ENDPOINT_URL_S3: "http://127.0.0.1:4566",
      DATA_DIR: "/ignored",
    });

    expect(ok(out.loadStoreConfig)).toEqual({
      kind: "s3",
      bucket: "imvault-local",
      endpoint: "http://127.0.0.1:4566",
    });
  });

  it("with nothing set, each loader throws one ConfigError naming every missing setting", async () => {
    const out = await probe({});

    const im = configError(out.loadImConfig);
    expect(im.setting).toBe("IM_SDKAPPID, IM_SECRET_KEY");
    expect(im.message).toContain("IM_SDKAPPID is missing");
    expect(im.message).toContain("IM_SECRET_KEY is missing");
    expect(configError(out.loadQueueConfig).setting).toBe("JOBS_QUEUE_URL");
    expect(configError(out.loadApiConfig).setting).toBe("API_KEYS");
    expect(ok(out.loadArchiveConfig)).toEqual(ARCHIVE_DEFAULTS);
  });

  it("invalid values are named with what is allowed, and the secret key is never in the message", async () => {
    const out = await probe({
      IM_SDKAPPID: "14e",
      IM_SECRET_KEY: "local-secret-key-0002",
      IM_REGION: "mars",
      IM_RATE_LIMIT: "0",
      IM_BASE_URL: "ftp://sim.example.com",
      IM_DOWNLOAD_HOSTS: "ok.example.com,https://x.example.com/path",
      LOOKBACK_HOURS: "6",
      SETTLE_HOURS: "6",
      JOBS_QUEUE_URL: "not a url",
      ARCHIVE_BUCKET: "Bad_Bucket",
    });

    const im = configError(out.loadImConfig);
    expect(im.setting).toBe("IM_SDKAPPID, IM_REGION, IM_BASE_URL, IM_RATE_LIMIT, IM_DOWNLOAD_HOSTS");
    expect(im.message).toContain('IM_SDKAPPID must be an integer >= 1 (got "14e")');
    expect(im.message).toContain("IM_REGION must be one of cn, sgp, kr, jpn, ger, usa, idn, ind");
    expect(im.message).toContain("IM_BASE_URL must be an http or https URL");
    expect(im.message).toContain("IM_RATE_LIMIT must be a number from 0.01 to 1000");
    expect(im.message).toContain("IM_DOWNLOAD_HOSTS entry 2 is not an http(s) origin");
    expect(im.message).not.toContain("local-secret-key-0002");
    expect(configError(out.loadArchiveConfig).message).toBe(
      "configuration: SETTLE_HOURS must be smaller than the lookback (6 hours)",
    );
    expect(configError(out.loadQueueConfig).message).toBe("configuration: JOBS_QUEUE_URL is not a URL");
    expect(configError(out.loadStoreConfig).setting).toBe("ARCHIVE_BUCKET");
  });

  it("API_KEYS problems name the entry (and its name), never a token", async () => {
    const out = await probe({
      ...LOCAL_MINIMUM,
      API_KEYS: "ops:tok-AAAA,ops:tok-BBBB, ,bare-tok-CCCC,ci:tok-AAAA,bad name:tok-DDDD,empty:",
    });

    const { message, setting } = configError(out.loadApiConfig);
    expect(setting).toBe("API_KEYS, API_KEYS, API_KEYS, API_KEYS, API_KEYS, API_KEYS");
    expect(message).toContain("entry 2 repeats the name ops of entry 1");
    expect(message).toContain("entry 3 is empty");
    expect(message).toContain("entry 4 is not name:token");
    expect(message).toContain("entry 5 (ci) reuses the token of ops");
    expect(message).toContain("entry 6 has an invalid name");
    expect(message).toContain("entry 7 (empty) has an empty token");
    for (const secret of ["tok-AAAA", "tok-BBBB", "CCCC", "tok-DDDD"]) expect(message).not.toContain(secret);
  });
});

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
    },
    ImSecretKey: { type: "sst.sst.Secret", value: "aws-secret-key-0009" },
    ApiKeys: { type: "sst.sst.Secret", value: "ops:aws-token-0009" },
    ArchiveBucket: { type: "sst.sst.Linkable", name: "imvault-test-archivestore-abc123" },
    Jobs: {
      type: "sst.sst.Linkable",
      url: "https://sqs.eu-west-1.amazonaws.com/123456789012/imvault-test-JobQueue",
    },
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
      downloadIdleTimeoutMs: 30_000,
      retryBaseDelayMs: 1000,
      retentionDays: 7,
    },
    loadStoreConfig: { kind: "s3", bucket: "imvault-test-archivestore-abc123" },
    loadQueueConfig: { queueUrl: links.Jobs.url },
    loadApiConfig: {
      apiKeys: [{ name: "ops", token: "aws-token-0009" }],
      cosUrlHosts: ["*.myqcloud.com", "*.tim.qq.com", "*.im.qcloud.com", "*.my-imcloud.com"],
      maxItems: 100,
      maxBodyBytes: 65536,
    },
  };

  it("reads SST_RESOURCE_<Name> JSON and ignores the local variables", async () => {
    const out = await probe({
      SST_RESOURCE_App: APP,
      ...asEnv(links),
      ...LOCAL_MINIMUM,
      ARCHIVE_BUCKET: "not-this-one",
      LOOKBACK_HOURS: "1",
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
    expect(ok(out.loadArchiveConfig)).toEqual(expected.loadArchiveConfig);
  });

  it("names invalid link properties as Resource.<Name>.<key> without printing a secret", async () => {
    const out = await probe({
      SST_RESOURCE_App: APP,
      ...asEnv({
        ...links,
        ImApp: { ...links.ImApp, sdkAppId: "x", region: "mars", rateLimit: 0, cosUrlHosts: "bad/host" },
        ApiKeys: { type: "sst.sst.Secret", value: "ops:aws-token-0009,ops:aws-token-0010" },
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

  it("a link SST cannot parse is a ConfigError that does not echo its value", async () => {
    const out = await probe({ SST_RESOURCE_App: APP, SST_RESOURCE_ImSecretKey: "secret-not-json-0011" });

    const error = configError(out.loadImConfig);
    expect(error.setting).toBe("SST_RESOURCE_* / SST_KEY_FILE");
    expect(error.message).not.toContain("secret-not-json-0011");
  });
});

describe("bundle", () => {
  it("pulls only sst's Resource entry from sst and valibot: no AWS SDK, a few KB", async () => {
    const result = await build({
      entryPoints: [fileURLToPath(CONFIG)],
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
    expect(result.outputFiles[0]!.contents.byteLength).toBeLessThan(16 * 1024);
  });
});
