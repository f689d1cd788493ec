#!/usr/bin/env node
/**
 * imvault-sim: the Tencent IM REST API simulator on its own, on 127.0.0.1.
 * Settings: flags, else IM_SDKAPPID / IM_SECRET_KEY / IM_ADMIN, else the documented test values.
 */
import { Command, InvalidArgumentError } from "commander";
import simPackage from "../package.json" with { type: "json" };
import { startSimulator, TEST_ADMIN, TEST_SDKAPPID, TEST_SECRET_KEY } from "../src/index.ts";

function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (text: string): number => {
    const n = Number(text);
    if (!/^\d+$/.test(text.trim()) || n < min || n > max) {
      throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

function fraction(text: string): number {
  const n = Number(text);
  if (text.trim() === "" || !(n >= 0 && n <= 1))
    throw new InvalidArgumentError("must be a number from 0 to 1");
  return n;
}

const env = process.env;
const program = new Command()
  .name("imvault-sim")
  .description("Simulates Tencent Cloud IM's REST API (get_history, get_cos_sig) on 127.0.0.1.")
  .version(simPackage.version)
  .option("--port <n>", "port on 127.0.0.1 (0 = any free one)", integer(0, 65535), 8080)
  .option("--sdkappid <id>", "the app's SDKAppID [env IM_SDKAPPID]", integer(1, 0xffffffff))
  .option("--secret-key <key>", "the app's secret key [env IM_SECRET_KEY]")
  .option("--admin <name...>", "App admin identifier(s) [env IM_ADMIN]")
  .option("--retention-hours <h>", "hours after an hour ends until its files expire (1005)", integer(0), 168)
  .option(
    "--processing-delay-minutes <m>",
    "minutes after an hour ends until its files exist",
    integer(0),
    60,
  )
  .option("--seed <seed>", "seed of everything generated", "imvault-sim")
  .option(
    "--messages-per-hour <n>",
    "messages per hour and chat type (default: seeded 1,000 – 3,000)",
    integer(0),
  )
  .option(
    "--bytes-per-hour <n>",
    "plain bytes per hour and chat type, instead of a message count",
    integer(1),
  )
  .option("--max-file-bytes <n>", "split an hour into several files past this plain size", integer(1))
  .option("--gzip-level <n>", "GZip level of history files", integer(1, 9), 6)
  .option(
    "--cache-dir <dir>",
    "keep generated history files here and serve downloads from disk (reused by later starts)",
  )
  .option("--rate-limit <n>", "calls per second per command before 60007", integer(1), 10)
  .option("--url-ttl-seconds <s>", "lifetime of history download URLs", integer(1), 3600)
  .option("--banned-fraction <p>", "share of media URLs reported banned", fraction, 0.02)
  .option("--missing-fraction <p>", "share of media URLs reported missing", fraction, 0.01)
  .option("--empty-hour <key...>", 'hours with no messages, e.g. "C2C:2024010203"')
  .addHelpText(
    "after",
    `\nDefaults without flags or env: sdkappid ${TEST_SDKAPPID}, secret key "${TEST_SECRET_KEY}", admin "${TEST_ADMIN}".\nControl API: POST /__sim/faults, GET /__sim/requests (see packages/im-sim/README.md).`,
  );
program.parse();
const o = program.opts<{
  port: number;
  sdkappid?: number;
  secretKey?: string;
  admin?: string[];
  retentionHours: number;
  processingDelayMinutes: number;
  seed: string;
  messagesPerHour?: number;
  bytesPerHour?: number;
  maxFileBytes?: number;
  gzipLevel: number;
  cacheDir?: string;
  rateLimit: number;
  urlTtlSeconds: number;
  bannedFraction: number;
  missingFraction: number;
  emptyHour?: string[];
}>();

const envApp = env.IM_SDKAPPID === undefined || env.IM_SDKAPPID === "" ? undefined : Number(env.IM_SDKAPPID);
if (envApp !== undefined && !(Number.isSafeInteger(envApp) && envApp > 0)) {
  program.error("imvault-sim: IM_SDKAPPID must be a positive integer");
}
const usingTestKey = o.secretKey === undefined && !env.IM_SECRET_KEY;

const sim = await startSimulator({
  port: o.port,
  sdkAppId: o.sdkappid ?? envApp ?? TEST_SDKAPPID,
  secretKey: o.secretKey ?? (env.IM_SECRET_KEY || TEST_SECRET_KEY),
  admins: o.admin ?? (env.IM_ADMIN ? [env.IM_ADMIN] : [TEST_ADMIN]),
  retentionHours: o.retentionHours,
  processingDelayMinutes: o.processingDelayMinutes,
  seed: o.seed,
  gzipLevel: o.gzipLevel,
  rateLimitPerSecond: o.rateLimit,
  urlTtlSeconds: o.urlTtlSeconds,
  bannedFraction: o.bannedFraction,
  missingFraction: o.missingFraction,
  ...(o.bytesPerHour !== undefined
    ? { volume: { bytes: o.bytesPerHour } }
    : o.messagesPerHour !== undefined
      ? { volume: o.messagesPerHour }
      : {}),
  ...(o.maxFileBytes !== undefined ? { maxFileBytes: o.maxFileBytes } : {}),
  ...(o.cacheDir !== undefined ? { cacheDir: o.cacheDir } : {}),
  ...(o.emptyHour !== undefined ? { emptyHours: o.emptyHour as `C2C:${string}`[] } : {}),
});

// The first line is machine-readable (tests and scripts read the URL from it).
process.stdout.write(`imvault-sim listening on ${sim.url}\n`);
process.stdout.write(
  `  sdkappid ${sim.sdkAppId}, admin ${sim.admins.join(", ")}, secret key ${usingTestKey ? "(the documented test key)" : "(from flag/env)"}\n` +
    `  point imvault at it:  IM_BASE_URL=${sim.url} IM_SDKAPPID=${sim.sdkAppId} IM_ADMIN=${sim.admins[0]} IM_SECRET_KEY=…\n` +
    `  control: ${sim.url}/__sim/requests, POST ${sim.url}/__sim/faults\n`,
);

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`imvault-sim: ${signal}, closing\n`);
  sim.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
