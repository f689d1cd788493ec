import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import {
  ConfigError,
  createLocalStore,
  createLocalUrlSigner,
  DEFAULTS,
  type ScheduleSummary,
} from "@imvault/im-core";
import { EXIT, type ExitCode } from "../exit-codes.ts";
import type { Terminal } from "../terminal.ts";
import { loadOrCreateApiKey } from "./api-key.ts";
import { filesRoute } from "./files-route.ts";
import { startDevHttpServer } from "./http-server.ts";
import { imSourceFromEnv, startImSource } from "./im-source.ts";
import { describeBatch } from "./job-report.ts";
import { LOCAL_CREDENTIALS, LOCAL_REGION, startLocalQueues } from "./local-sqs.ts";
import { startQueueWorker } from "./queue-worker.ts";
import { startScheduleTimer } from "./schedule-timer.ts";

/** Like the archive function's timeout in AWS: a job that runs longer is stopped and retried. */
export const DEV_JOB_TIMEOUT_MS = 5 * 60_000;
/** AWS's advice for SQS event sources: visibility timeout at least six times the function timeout. */
export const DEV_VISIBILITY_TIMEOUT_S = (6 * DEV_JOB_TIMEOUT_MS) / 1000;
export const DEV_MAX_RECEIVE_COUNT = 5;
/**
 * Records per batch, as the SQS event source in AWS hands them (infra/settings.ts, ARCHIVE.batchSize):
 * the archive handler runs a batch's jobs at once, and the first Ctrl-C waits for the batch in flight,
 * which with media jobs (thousands of objects an hour) must stay small.
 */
export const DEV_BATCH_SIZE = 2;
const QUEUE_NAME = "imvault-jobs";

export interface DevOptions {
  env: NodeJS.ProcessEnv;
  terminal: Terminal;
  /** Resolves when the runner should stop (SIGINT / SIGTERM in the CLI). */
  stopSignal: Promise<string>;
}

/**
 * `imvault dev`: the three Lambda handlers of the AWS deployment, unchanged, on one machine. A
 * timer calls the schedule handler (and, once a run's jobs committed hours, once more for their media
 * alone), a worker feeds the archive handler real SQS batch events (history and media jobs) from an
 * in-process SQS emulator, and an HTTP server turns requests into API Gateway v2 events for the api
 * handler. The handlers read their configuration from process.env at import, so the environment is
 * completed first and the handlers are imported after.
 */
export async function runDev(options: DevOptions): Promise<ExitCode> {
  const { env, terminal } = options;
  const say = (line: string) => terminal.out(line);
  const closers: { name: string; close: () => Promise<void> }[] = [];
  const closeAll = async () => {
    for (const { name, close } of closers.reverse()) {
      await close().catch((error: unknown) => terminal.err(`warn: closing ${name} failed: ${String(error)}`));
    }
  };

  try {
    const dataDir = resolve(env.DATA_DIR || DEFAULTS.dataDir);
    const port = parsePort(env.PORT);
    const store = createLocalStore({ root: dataDir });
    // A DATA_DIR that cannot be written stops dev here, with one line naming the path and the cause,
    // rather than every job failing the same way. It also makes DATA_DIR (0700) if it is missing.
    await store.checkWritable();
    const removed = await store.cleanupTemp();

    const im = await startImSource(imSourceFromEnv(env));
    closers.push({ name: "IM simulator", close: im.close });
    Object.assign(env, im.env);

    const queues = await startLocalQueues({
      name: QUEUE_NAME,
      visibilityTimeoutSeconds: DEV_VISIBILITY_TIMEOUT_S,
      maxReceiveCount: DEV_MAX_RECEIVE_COUNT,
    });
    closers.push({ name: "local SQS", close: queues.close });

    let apiKeyLine: string;
    if (env.API_KEYS === undefined || env.API_KEYS.trim() === "") {
      const key = await loadOrCreateApiKey(dataDir);
      env.API_KEYS = key.entry;
      apiKeyLine = key.created
        ? `export IMVAULT_API_KEY=${key.token}   (new: shown only now; kept in ${key.path})`
        : `kept in ${key.path} (from an earlier start): export IMVAULT_API_KEY=$(cut -d: -f2- ${key.path})`;
    } else {
      apiKeyLine = `from API_KEYS (${env.API_KEYS.split(",").filter((k) => k.trim() !== "").length} key(s))`;
    }

    // The API answers 503 until its handler is loaded: it needs this server's URL in its environment.
    let api: typeof import("@imvault/functions/api").handler | undefined;
    const signingKey = randomBytes(32).toString("base64url");
    let files: ReturnType<typeof filesRoute> | undefined;
    const http = await startDevHttpServer({
      host: "127.0.0.1",
      port,
      api: async (event, context) => {
        if (api === undefined) {
          return {
            statusCode: 503,
            body: JSON.stringify({ error: { code: "starting", message: "starting up" } }),
          };
        }
        return api(event, context);
      },
      files: (request, response) => (files === undefined ? Promise.resolve(false) : files(request, response)),
      onError: (error) => terminal.err(`error: API request failed: ${String(error)}`),
    });
    closers.push({ name: "HTTP server", close: http.close });
    files = filesRoute(createLocalUrlSigner({ baseUrl: http.url, secret: signingKey }), store);

    Object.assign(env, {
      DATA_DIR: dataDir,
      JOBS_QUEUE_URL: queues.queueUrl,
      AWS_ENDPOINT_URL_SQS: queues.endpoint,
      // Nothing here talks to AWS: fixed fake credentials keep a developer's real ones out of it.
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      IMVAULT_PUBLIC_URL: http.url,
      IMVAULT_URL_SIGNING_KEY: signingKey,
    });
    delete env.AWS_SESSION_TOKEN;
    delete env.AWS_PROFILE;
    // The local run stores under DATA_DIR and reads settings from the environment, never from an
    // S3 bucket or SST's links (as under `sst shell`).
    const ignored = Object.keys(env).filter(
      (k) =>
        k === "ARCHIVE_BUCKET" ||
        k === "AWS_ENDPOINT_URL_S3" ||
        k === "SST_KEY_FILE" ||
        k.startsWith("SST_RESOURCE_"),
    );
    for (const k of ignored) delete env[k];
    // The handlers log JSON through Powertools: errors only by default (the lines below tell each job's
    // outcome), and no metrics (no CloudWatch here).
    env.POWERTOOLS_LOG_LEVEL ??= "ERROR";
    env.POWERTOOLS_METRICS_DISABLED ??= "true";

    const schedule = (await import("@imvault/functions/schedule")).handler;
    const archive = (await import("@imvault/functions/archive")).handler;
    api = (await import("@imvault/functions/api")).handler;

    say("imvault dev: the whole system on this machine (Ctrl-C stops it)");
    say(`  IM API     ${im.description}`);
    say(`  data dir   ${dataDir}${removed > 0 ? ` (removed ${removed} stale temp file(s))` : ""}`);
    if (ignored.length > 0) say(`  ignored    ${ignored.join(", ")}: imvault dev stores under DATA_DIR`);
    say(
      `  queue      ${QUEUE_NAME} on the SQS emulator at ${queues.endpoint} (a job failing ${DEV_MAX_RECEIVE_COUNT} times moves to ${QUEUE_NAME}-dlq)`,
    );
    say(`  API        ${http.url}`);
    say(`  console    ${http.url}/   (sign in with the API key)`);
    say(`  API key    ${apiKeyLine}`);
    say(`  try        curl -s -H "Authorization: Bearer $IMVAULT_API_KEY" ${http.url}/v1/status?hours=6`);
    say(`  schedule   now, then each hour right after it turns and at minute 5 (Beijing time = UTC+8)`);
    say(
      `  media      each archived hour's media are captured right after it, as media jobs on the same queue`,
    );
    say(
      `  logs       one line per job below; handler logs at ${env.POWERTOOLS_LOG_LEVEL} (set POWERTOOLS_LOG_LEVEL=INFO for all)`,
    );

    let done = 0;
    let expected = 0;
    let tally = new Map<string, number>();
    let runStarted = Date.now();
    // Whether a history job of the current run committed an hour (so its media can be planned).
    let committed = false;
    // One scheduler run at a time: a timer run and a media run could otherwise plan the same hours.
    let scheduling = Promise.resolve();
    /** Every job of the run is handled: the run's summary, then its media planned (see below). */
    const runHandled = () => {
      const counts = [...tally].map(([outcome, n]) => `${n} ${outcome}`).join(", ");
      say(`jobs of this run handled in ${((Date.now() - runStarted) / 1000).toFixed(1)} s: ${counts}`);
      // In AWS the next hourly run plans the media of the hours archived now; here the scheduler
      // is asked for them at once, so they are captured within seconds too.
      if (committed) void runSchedule({ kind: "media" });
    };
    const runSchedule = (event: { kind?: "media" } = {}) => {
      scheduling = scheduling.then(async () => {
        // The run's jobs are counted from here: the queue worker may handle the first of them
        // before the scheduler has returned.
        const before = done;
        tally = new Map();
        committed = false;
        runStarted = Date.now();
        try {
          const summary = await schedule({
            source: "imvault.dev",
            "detail-type": "Scheduled Event",
            ...event,
          });
          expected = before + summary.enqueued;
          say(scheduleLine(summary, event.kind === "media"));
          if (summary.enqueued > 0 && done >= expected) runHandled();
        } catch (error) {
          terminal.err(
            `error: scheduler run failed: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
      });
      return scheduling;
    };

    const worker = startQueueWorker({
      client: queues.client,
      queueUrl: queues.queueUrl,
      queue: { arn: queues.queueArn, region: LOCAL_REGION },
      handler: archive,
      functionName: "imvault-archive",
      timeoutMs: DEV_JOB_TIMEOUT_MS,
      batchSize: DEV_BATCH_SIZE,
      onBatch: async ({ records, failed, error }) => {
        if (error !== undefined) {
          terminal.err(
            `error: the archive handler threw: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
        for (const line of await describeBatch(store, records, failed, DEV_MAX_RECEIVE_COUNT)) {
          // An export the API was asked for is no job of the scheduler's run: no counter, not counted.
          if (line.job?.kind === "export") {
            say(line.text);
            continue;
          }
          done++;
          const counter = expected > 0 ? `[${Math.min(done, expected)}/${expected}] ` : "";
          say(`${counter}${line.text}`);
          tally.set(line.outcome, (tally.get(line.outcome) ?? 0) + 1);
          if (line.job?.kind === "history" && COMMITTED.has(line.outcome)) committed = true;
          if (done === expected) runHandled();
        }
      },
      onError: (error) =>
        terminal.err(`warn: queue worker: ${error instanceof Error ? error.message : String(error)}`),
    });
    closers.push({ name: "queue worker", close: worker.stop });

    await runSchedule();
    const timer = startScheduleTimer(() => runSchedule());
    closers.push({ name: "scheduler", close: timer.stop });

    const signal = await options.stopSignal;
    say(
      `${signal}: stopping: no new jobs${worker.inFlight > 0 ? `; letting the ${worker.inFlight} batch in flight finish (Ctrl-C again to abort it)` : ""}`,
    );
    await closeAll();
    say("stopped.");
    return EXIT.ok;
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** Outcomes of a history job that leave the hour with a manifest. */
const COMMITTED: ReadonlySet<string> = new Set(["archived", "empty", "expired"]);

function scheduleLine(summary: ScheduleSummary, mediaOnly: boolean): string {
  const failed = summary.failed > 0 ? `, ${summary.failed} could not be enqueued` : "";
  if (mediaOnly) {
    return `scheduler: media of the archived hours still without them: ${summary.enqueued} job(s) enqueued${failed}`;
  }
  const media = summary.mediaPlanned > 0 ? ` (${summary.mediaPlanned} of them to capture media)` : "";
  const corrupt =
    summary.corrupt > 0
      ? `, ${summary.corrupt} with a corrupt manifest (archived again; \`imvault status\` names them)`
      : "";
  return `scheduler: hours ${summary.from}..${summary.to} (Beijing): ${summary.enqueued} job(s) enqueued${media}, ${summary.skipped} already archived${corrupt}${failed}${digestNote(summary.digest)}`;
}

/** What the scheduler's digest came to, for its line: sealed (which), or why none. */
function digestNote(digest: ScheduleSummary["digest"]): string {
  if (digest?.outcome === "sealed") return `; sealed ${digest.key} (${digest.objects} object(s))`;
  if (digest?.outcome === "failed") return `; no digest sealed: ${digest.error}`;
  return "";
}

function parsePort(text: string | undefined): number {
  if (text === undefined || text === "") return DEFAULTS.port;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535)
    throw new ConfigError("PORT", "must be a port number from 0 to 65535");
  return port;
}
