import { createHash } from "node:crypto";
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { addHours, hourOf } from "@imvault/im-core";
import { type Simulator, startSimulator } from "@imvault/im-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalAws, startLocalAws, TEST_CREDENTIALS, TEST_REGION } from "./support/fauxqs.ts";
import { cleanEnv, runImvault } from "./support/imvault-cli.ts";
import { clearOfHourTurn } from "./support/wait.ts";

const SDKAPPID = 1400012346;
const SECRET = "cli-archive-s3-test-secret-key";

// The CLI loads the S3 adapter (and the AWS SDK) only when ARCHIVE_BUCKET names a bucket: this drives
// that path end to end, against fauxqs's S3 and the simulator over HTTP.
describe("imvault archive / status / verify on an S3 bucket", () => {
  let sim: Simulator;
  let aws: LocalAws;
  let bucket: string;
  let env: NodeJS.ProcessEnv;
  let hour: string;

  beforeAll(async () => {
    // Start clear of an hour's turn, so that the hour below keeps its outcome.
    await clearOfHourTurn(30_000);
    hour = addHours(hourOf(Date.now()), -8); // settled (6 h) and within retention (24 h)
    sim = await startSimulator({
      sdkAppId: SDKAPPID,
      secretKey: SECRET,
      seed: "cli-archive-s3",
      processingDelayMinutes: 0,
      retentionHours: 24,
      volume: 300,
    });
    aws = await startLocalAws();
    bucket = await aws.createBucket();
    env = cleanEnv({
      IM_SDKAPPID: String(SDKAPPID),
      IM_SECRET_KEY: SECRET,
      IM_BASE_URL: sim.url,
      ARCHIVE_BUCKET: bucket,
      AWS_ENDPOINT_URL_S3: aws.endpoint,
      AWS_REGION: TEST_REGION,
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    });
  });

  afterAll(async () => {
    await sim?.close();
    await aws?.stop();
  });

  it("archives an hour into the bucket byte-identical, then status and verify read it back", async () => {
    const run = await runImvault(["archive", "--from", hour, "--to", hour], env);

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`${hour}\\s+C2C\\s+archived`));
    const listed = await aws.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (listed.Contents ?? []).map((o) => o.Key!);
    const manifestKeys = keys.filter((k) => k.startsWith("manifests/"));
    expect(manifestKeys).toHaveLength(2); // C2C and Group
    for (const key of manifestKeys) {
      const manifest = JSON.parse(
        await (
          await aws.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
        ).Body!.transformToString(),
      ) as { status: string; files: { key: string; gzipMd5: string }[] };
      expect(manifest.status).toBe("archived");
      for (const file of manifest.files) {
        const body = await aws.s3.send(new GetObjectCommand({ Bucket: bucket, Key: file.key }));
        const bytes = Buffer.from(await body.Body!.transformToByteArray());
        expect(createHash("md5").update(bytes).digest("hex")).toBe(file.gzipMd5);
      }
    }

    const status = await runImvault(["status", "--hours", "12", "--json"], env);
    const verify = await runImvault(["verify"], env);

    const rows = (JSON.parse(status.stdout) as { rows: { msgTime: string; status: string }[] }).rows;
    expect(rows.filter((r) => r.msgTime === hour).map((r) => r.status)).toEqual(["archived", "archived"]);
    expect(verify.code, verify.stderr).toBe(0);
  }, 60_000);
});
