/**
 * captureHourMedia in a process of its own, so that a test can kill it with SIGKILL mid-download and a
 * benchmark can read its own peak memory apart from everything else's. It builds MediaDeps the way a
 * deployment does (an ImClient against IM_BASE_URL for get_cos_sig, a local store, whose killed
 * writers' temp files are removed first as the CLI does, or an S3 bucket) and captures the given hours,
 * `hoursAtOnce` at a time (as `imvault media` does).
 *
 *   node test/support/media-capture-child.ts '<MediaChildConfig as JSON>'
 *
 * stdout, one JSON line each: {"started":true} once the deps are built, {"hour":…,"result":…} per hour
 * captured, then {"done":true,"captureMs":…} (from the first hour's start to the last hour's end).
 * stderr, as the process exits (also on failure): `MEDIA_CHILD_USAGE {"maxRssKb":…,"cpuUs":…}`.
 * Exits 1 on the first hour that fails. Stops by itself when its parent dies.
 */
import {
  type ArchiveStore,
  type ChatType,
  captureHourMedia,
  cleanupLocalTemp,
  createLocalStore,
  DEFAULT_MEDIA_CONFIG,
  getCosSig,
  ImClient,
  type MediaDeps,
  type MsgTime,
  silentLogger,
  systemClock,
} from "@imvault/im-core";

export interface MediaChildConfig {
  /** IM_BASE_URL: the simulator, which also serves the PreSigURLs (so it is the one download host). */
  simUrl: string;
  sdkAppId: number;
  secretKey: string;
  admin: string;
  store: { kind: "local"; root: string } | { kind: "s3"; endpoint: string; bucket: string };
  hours: { chatType: ChatType; msgTime: MsgTime }[];
  /** Downloads at the same time (DEFAULT_MEDIA_CONFIG's by default). */
  concurrency?: number;
  /** Hours captured at the same time, as `imvault media --concurrency` (1 by default: one after the other). */
  hoursAtOnce?: number;
}

/** The line the child writes to stderr as it exits. */
export const USAGE_PREFIX = "MEDIA_CHILD_USAGE ";

export function parseUsage(stderr: string): { maxRssKb: number; cpuUs: number } | undefined {
  const line = stderr.split("\n").find((l) => l.startsWith(USAGE_PREFIX));
  return line === undefined ? undefined : JSON.parse(line.slice(USAGE_PREFIX.length));
}

async function storeOf(config: MediaChildConfig["store"]): Promise<ArchiveStore> {
  if (config.kind === "local") {
    await cleanupLocalTemp(config.root);
    return createLocalStore({ root: config.root });
  }
  const [{ S3Client }, { createS3Store }] = await Promise.all([
    import("@aws-sdk/client-s3"),
    import("@imvault/im-core/s3"),
  ]);
  const client = new S3Client({
    endpoint: config.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    forcePathStyle: true,
  });
  return createS3Store({ client, bucket: config.bucket });
}

async function main(config: MediaChildConfig): Promise<void> {
  const client = new ImClient({
    sdkAppId: config.sdkAppId,
    identifier: config.admin,
    secretKey: config.secretKey,
    baseUrl: config.simUrl,
  });
  const deps: MediaDeps = {
    store: await storeOf(config.store),
    getCosSig: (items, signal) => getCosSig(client, items, signal ? { signal } : {}),
    clock: systemClock,
    logger: silentLogger,
    config: {
      ...DEFAULT_MEDIA_CONFIG,
      downloadHosts: [config.simUrl],
      concurrency: config.concurrency ?? DEFAULT_MEDIA_CONFIG.concurrency,
    },
  };
  const say = (line: unknown) => process.stdout.write(`${JSON.stringify(line)}\n`);
  say({ started: true });
  const start = performance.now();
  const hours = [...config.hours];
  const worker = async () => {
    for (let hour = hours.shift(); hour !== undefined; hour = hours.shift()) {
      say({ hour, result: await captureHourMedia(hour, deps) });
    }
  };
  await Promise.all(Array.from({ length: config.hoursAtOnce ?? 1 }, worker));
  say({ done: true, captureMs: performance.now() - start });
}

if (process.argv[1] === import.meta.filename) {
  process.on("exit", () => {
    const u = process.resourceUsage();
    process.stderr.write(
      `\n${USAGE_PREFIX}${JSON.stringify({ maxRssKb: u.maxRSS, cpuUs: u.userCPUTime + u.systemCPUTime })}\n`,
    );
  });
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.exit(3);
  }, 1000).unref();
  main(JSON.parse(process.argv[2] ?? "{}") as MediaChildConfig).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
