import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { DEPLOY_VARS, deployWith, importSstConfig, type SstConfig } from "./sst-fakes.ts";

/*
 * The write-once archive and its signing key, as sst.config.ts deploys them (recording fakes, as in
 * infra.test.ts): S3 Object Lock on the bucket, a KMS key only the scheduler may sign with, and the
 * alarms on the chain of digests.
 */
let config: SstConfig;
beforeAll(async () => {
  config = await importSstConfig(new URL("../sst.config.ts", import.meta.url));
});
beforeEach(() => {
  for (const name of DEPLOY_VARS) vi.stubEnv(name, undefined);
  vi.stubEnv("IM_SDKAPPID", "1400000001");
});
afterEach(() => {
  vi.unstubAllEnvs();
});

const SCHEDULER_ROLE = "arn:aws:iam::123456789012:role/imvault-prod-SchedulerRole-abc123";

interface Statement {
  Sid: string;
  Effect: string;
  Principal: { AWS: string };
  Action: string | string[];
  Condition?: Record<string, Record<string, string>>;
}

describe("write-once storage", () => {
  it("creates the bucket with Object Lock and a default retention in governance mode", async () => {
    const { r } = await deployWith(config, "prod");

    expect(r.args("sst.aws.Bucket", "ArchiveStore")).toMatchObject({
      versioning: true,
      transform: { bucket: { objectLockEnabled: true, forceDestroy: false } },
    });
    expect(r.args("aws.s3.BucketObjectLockConfiguration", "ArchiveObjectLock")).toEqual({
      bucket: "imvault-prod-archivestore-abc123",
      rule: { defaultRetention: { mode: "GOVERNANCE", days: 1095 } },
    });
    // The functions lock each object they put for as long: they read the mode and days by link.
    expect(r.args("sst.sst.Linkable", "ArchiveBucket").properties).toMatchObject({
      retentionMode: "governance",
      retentionDays: 1095,
    });
  });

  it("keeps test stages a day unless RETENTION_DAYS says otherwise", async () => {
    const dev = await deployWith(config, "dev");
    vi.stubEnv("RETENTION_DAYS", "30");
    const longer = await deployWith(config, "dev");

    expect(dev.r.args("aws.s3.BucketObjectLockConfiguration", "ArchiveObjectLock")).toMatchObject({
      rule: { defaultRetention: { days: 1 } },
    });
    expect(longer.r.args("aws.s3.BucketObjectLockConfiguration", "ArchiveObjectLock")).toMatchObject({
      rule: { defaultRetention: { days: 30 } },
    });
  });

  it("deploys compliance mode only with RETENTION_COMPLIANCE_CONFIRM=yes-i-understand", async () => {
    vi.stubEnv("RETENTION_MODE", "compliance");
    await expect(deployWith(config, "prod")).rejects.toThrow(
      /RETENTION_MODE=compliance locks every object .* set RETENTION_COMPLIANCE_CONFIRM=yes-i-understand/,
    );
    vi.stubEnv("RETENTION_COMPLIANCE_CONFIRM", "yes");
    await expect(deployWith(config, "prod")).rejects.toThrow(/RETENTION_COMPLIANCE_CONFIRM/);

    vi.stubEnv("RETENTION_COMPLIANCE_CONFIRM", "yes-i-understand");
    const { r } = await deployWith(config, "prod");

    expect(r.args("aws.s3.BucketObjectLockConfiguration", "ArchiveObjectLock")).toMatchObject({
      rule: { defaultRetention: { mode: "COMPLIANCE" } },
    });
    vi.stubEnv("RETENTION_MODE", "forever");
    await expect(deployWith(config, "prod")).rejects.toThrow(
      /RETENTION_MODE must be governance or compliance/,
    );
  });
});

describe("the digest signing key", () => {
  it("is an asymmetric P-256 signing key, linked to the scheduler alone", async () => {
    const { r } = await deployWith(config, "prod");

    expect(r.args("aws.kms.Key", "DigestSigningKey")).toMatchObject({
      customerMasterKeySpec: "ECC_NIST_P256",
      keyUsage: "SIGN_VERIFY",
    });
    expect(r.args("sst.sst.Linkable", "DigestKey").properties).toEqual({
      keyId: "arn:aws:kms:eu-west-1:123456789012:key/DigestSigningKey",
    });
    const linked = (fn: string) =>
      (r.args("sst.aws.Function", fn).link as { $ref: string }[]).some(
        (l) => l.$ref === "sst.sst.Linkable:DigestKey",
      );
    expect(["Scheduler", "Archiver", "ApiHandler"].filter(linked)).toEqual(["Scheduler"]);
  });

  it("has a key policy that lets only the scheduler's role sign, and denies kms:Sign to everyone else", async () => {
    const { r } = await deployWith(config, "prod");

    const args = r.args("aws.kms.KeyPolicy", "DigestSigningKeyPolicy");
    expect(args.keyId).toBe("DigestSigningKey-key-id");
    const statements = (JSON.parse(String(args.policy)) as { Statement: Statement[] }).Statement;
    const actions = (s: Statement) => [s.Action].flat();
    const allowingSign = statements.filter(
      (s) => s.Effect === "Allow" && actions(s).some((a) => a === "kms:Sign" || a === "kms:*" || a === "*"),
    );
    expect(allowingSign.map((s) => s.Principal.AWS)).toEqual([SCHEDULER_ROLE]);
    expect(allowingSign[0]!.Condition).toEqual({
      StringEquals: { "kms:SigningAlgorithm": "ECDSA_SHA_256", "kms:MessageType": "DIGEST" },
    });
    const deny = statements.find((s) => s.Effect === "Deny")!;
    expect(deny).toMatchObject({ Principal: { AWS: "*" }, Action: "kms:Sign" });
    expect(deny.Condition).toEqual({ ArnNotEquals: { "aws:PrincipalArn": SCHEDULER_ROLE } });
    // The account administers the key (and reads its public key) without being able to sign.
    const admin = statements.find((s) => s.Principal.AWS === "arn:aws:iam::123456789012:root")!;
    expect(actions(admin)).toEqual(
      expect.arrayContaining(["kms:Get*", "kms:Put*", "kms:ScheduleKeyDeletion"]),
    );
    expect(actions(admin).some((a) => /^kms:(Sign|\*)$/.test(a))).toBe(false);
  });
});

describe("alarms on the chain of digests", () => {
  it("alarm when the head digest does not check out, and when no digest was sealed for 2 hours", async () => {
    const { r } = await deployWith(config, "prod");
    const alarm = (name: string) => r.args("aws.cloudwatch.MetricAlarm", name);
    const topic = ["arn:aws:sns:eu-west-1:123456789012:Alerts"];

    expect(alarm("DigestChainBrokenAlarm")).toMatchObject({
      metricQueries: [{ expression: "SELECT SUM(DigestChainBroken) FROM imvault", period: 3600 }],
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
      alarmActions: topic,
    });
    expect(alarm("NoDigestSealedAlarm")).toMatchObject({
      metricQueries: [{ expression: "SELECT SUM(DigestsSealed) FROM imvault", period: 3600 }],
      evaluationPeriods: 2,
      comparisonOperator: "LessThanThreshold",
      threshold: 1,
      treatMissingData: "breaching",
      alarmActions: topic,
    });
  });
});
