import { join } from "node:path";
import { DEFAULT_COS_URL_HOSTS, DEFAULT_DOWNLOAD_HOSTS } from "@imvault/im-core";
import { describe, expect, it } from "vitest";
import {
  ARCHIVE_DEFAULTS,
  configError,
  DEFAULT_HOSTS,
  LOCAL_MINIMUM,
  ok,
  settingsProbe,
} from "../testing/settings-probe.ts";

/* Local mode: settings from the environment, each case in a fresh process (see settingsProbe). */
const { tmp, probe } = settingsProbe();

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
      apiKeys: [{ name: "ops", token: "ops-token-0001-local" }],
      cosUrlHosts: ["*.myqcloud.com", "*.tim.qq.com", "*.im.qcloud.com", "*.my-imcloud.com"],
      maxItems: 100,
      maxBodyBytes: 65536,
      lookbackHours: 72,
    });
    // One definition: the loader's defaults are im-core's lists, not copies of them.
    expect((ok(out.loadImConfig) as { downloadHosts: string[] }).downloadHosts).toEqual(
      DEFAULT_DOWNLOAD_HOSTS,
    );
    expect((ok(out.loadApiConfig) as { cosUrlHosts: string[] }).cosUrlHosts).toEqual(DEFAULT_COS_URL_HOSTS);
  });

  it("without COS_URL_HOSTS, RawURLs may name *.myqcloud.com or the download hosts in effect", async () => {
    const out = await probe({ ...LOCAL_MINIMUM, IM_DOWNLOAD_HOSTS: "files.example.com" });

    expect(ok(out.loadApiConfig)).toMatchObject({ cosUrlHosts: ["*.myqcloud.com", "files.example.com"] });
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
      API_KEYS: "ops:token-one-0123456789, ci-bot:token-two:with-colon",
      API_MAX_ITEMS: "50",
      API_MAX_BODY_BYTES: "32768",
      DOWNLOAD_IDLE_TIMEOUT_SECONDS: "2.5",
      RETRY_BASE_DELAY_MS: "250",
      IM_RETENTION_DAYS: "30",
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
      idleTimeoutMs: 2500,
      retryBaseDelayMs: 250,
      retentionDays: 30,
    });
    expect(ok(out.loadStoreConfig)).toEqual({ kind: "local", dataDir: "/srv/imvault" });
    expect(ok(out.loadQueueConfig)).toEqual({
      queueUrl: LOCAL_MINIMUM.JOBS_QUEUE_URL,
      endpoint: "http://127.0.0.1:9324",
    });
    expect(ok(out.loadApiConfig)).toEqual({
      apiKeys: [
        { name: "ops", token: "token-one-0123456789" },
        { name: "ci-bot", token: "token-two:with-colon" },
      ],
      cosUrlHosts: ["cos.example.com"],
      maxItems: 50,
      maxBodyBytes: 32768,
      lookbackHours: 168,
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

  it("RETENTION_MODE and RETENTION_DAYS lock what is put in the bucket; compliance in any case", async () => {
    const bucket = { ...LOCAL_MINIMUM, ARCHIVE_BUCKET: "imvault-local" };
    const both = await probe({ ...bucket, RETENTION_MODE: "Compliance", RETENTION_DAYS: "2555" });
    const daysOnly = await probe({ ...bucket, RETENTION_DAYS: "30" });
    const wrong = await probe({ ...bucket, RETENTION_MODE: "forever", RETENTION_DAYS: "0" });

    expect(ok(both.loadStoreConfig)).toEqual({
      kind: "s3",
      bucket: "imvault-local",
      retention: { mode: "compliance", days: 2555 },
    });
    expect(ok(daysOnly.loadStoreConfig)).toMatchObject({ retention: { mode: "governance", days: 30 } });
    expect(configError(wrong.loadStoreConfig).message).toBe(
      'configuration: RETENTION_MODE, RETENTION_DAYS are missing or invalid: RETENTION_MODE must be governance or compliance; RETENTION_DAYS must be an integer from 1 to 36500 (got "0")',
    );
  });

  it("DIGEST_KMS_KEY_ID names the KMS key that signs digests on a bucket", async () => {
    const out = await probe({ ...LOCAL_MINIMUM, DIGEST_KMS_KEY_ID: " alias/imvault-digests " });

    expect(ok(out.loadEvidenceConfig)).toEqual({ kmsKeyId: "alias/imvault-digests" });
    expect(ok((await probe(LOCAL_MINIMUM)).loadEvidenceConfig)).toEqual({});
  });

  it("ATHENA_WORKGROUP with ATHENA_DATABASE select Athena for searches; neither means none; one alone is named", async () => {
    const [both, neither, one] = await Promise.all([
      probe({ ...LOCAL_MINIMUM, ATHENA_WORKGROUP: " wg ", ATHENA_DATABASE: "db" }),
      probe(LOCAL_MINIMUM),
      probe({ ...LOCAL_MINIMUM, ATHENA_WORKGROUP: "wg" }),
    ]);

    expect(ok(both.loadAthenaConfig)).toEqual({ workgroup: "wg", database: "db" });
    expect(ok(neither.loadAthenaConfig)).toBeUndefined();
    expect(configError(one.loadAthenaConfig).message).toMatch(/^configuration: ATHENA_DATABASE is missing/);
  }, 20_000); // three cold starts at once (each a Node process): more than 5 s on a busy machine

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
      API_KEYS:
        "ops:tok-AAAA-0123456789,ops:tok-BBBB-0123456789, ,bare-tok-CCCC-0123456789," +
        "ci:tok-AAAA-0123456789,bad name:tok-DDDD-0123456789,empty:",
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

describe("rules added by issue 18", () => {
  // Several cold starts at once (each is a Node process): more than the default 5 s on a busy machine.
  const SEVERAL_PROBES_MS = 20_000;

  it(
    "an API token shorter than 16 characters is refused by entry and name, never printed",
    async () => {
      const [short, exact] = await Promise.all([
        probe({ ...LOCAL_MINIMUM, API_KEYS: `ops:${"a".repeat(20)},ci:tok-15-chars-xx` }),
        probe({ ...LOCAL_MINIMUM, API_KEYS: "ci:tok-16-chars-xyz" }),
      ]);

      const { message, setting } = configError(short.loadApiConfig);
      expect(setting).toBe("API_KEYS");
      expect(message).toBe("configuration: API_KEYS entry 2 (ci) has a token shorter than 16 characters");
      expect(ok(exact.loadApiConfig)).toMatchObject({ apiKeys: [{ name: "ci", token: "tok-16-chars-xyz" }] });
    },
    SEVERAL_PROBES_MS,
  );

  it(
    "IM_RETENTION_DAYS is Tencent's history retention in whole days, 1 to 90",
    async () => {
      const [tooLong, fraction] = await Promise.all([
        probe({ IM_RETENTION_DAYS: "91" }),
        probe({ IM_RETENTION_DAYS: "7.5" }),
      ]);

      expect(configError(tooLong.loadArchiveConfig).message).toBe(
        'configuration: IM_RETENTION_DAYS must be an integer from 1 to 90 (got "91")',
      );
      expect(configError(fraction.loadArchiveConfig).setting).toBe("IM_RETENTION_DAYS");
    },
    SEVERAL_PROBES_MS,
  );

  it(
    "the local store's signed URLs need IMVAULT_PUBLIC_URL and a key of 16+ characters together",
    async () => {
      const [alone, shortKey, both] = await Promise.all([
        probe({ IMVAULT_PUBLIC_URL: "http://127.0.0.1:3000" }),
        probe({ IMVAULT_PUBLIC_URL: "http://127.0.0.1:3000", IMVAULT_URL_SIGNING_KEY: "short-key-0012" }),
        probe({
          IMVAULT_PUBLIC_URL: "http://127.0.0.1:3000/",
          IMVAULT_URL_SIGNING_KEY: "signing-key-0123456789",
        }),
      ]);

      expect(configError(alone.loadStoreConfig).message).toBe(
        "configuration: IMVAULT_PUBLIC_URL must be set together with IMVAULT_URL_SIGNING_KEY",
      );
      const error = configError(shortKey.loadStoreConfig);
      expect(error.message).toBe("configuration: IMVAULT_URL_SIGNING_KEY must be at least 16 characters");
      expect(error.message).not.toContain("short-key-0012");
      expect(ok(both.loadStoreConfig)).toEqual({
        kind: "local",
        dataDir: join(tmp, "data"),
        publicUrl: "http://127.0.0.1:3000",
        urlSigningKey: "signing-key-0123456789",
      });
    },
    SEVERAL_PROBES_MS,
  );
});
