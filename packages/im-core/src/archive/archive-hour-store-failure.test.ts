/**
 * A store that cannot be written fails the attempt at once, whatever the download is doing, with an
 * error that names the path and the cause, and nothing retries it.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fakeClock, fakeFetch, makeHistoryFile } from "../../testing/history.ts";
import { StoreUnavailableError } from "../errors.ts";
import type { HistoryFile } from "../im/types.ts";
import { createLocalStore } from "../store/local-store.ts";
import type { ArchiveStore } from "../store/port.ts";
import { formatBeijing, hourEnd } from "../time/msgtime.ts";
import type { Logger } from "../util/log.ts";
import { type ArchiveDeps, archiveHour } from "./archive-hour.ts";
import { processJobMessage } from "./process-job.ts";

const MSG_TIME = "2026112011";
const job = { v: 1, chatType: "C2C", msgTime: MSG_TIME } as const;
const URL_A = "https://download.tim.qq.com/msg_history/3/a.gz?sign=s3cr3t";
const NOW = hourEnd(MSG_TIME) + 2 * 3_600_000;
/** Far longer than a failing attempt takes; an attempt that never settles fails the test here. */
const SETTLE_LIMIT_MS = 3_000;
const TEST_TIMEOUT_MS = 15_000;
const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "imvault-store-failure-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function deps(
  over: Partial<ArchiveDeps> & Pick<ArchiveDeps, "getHistory" | "fetch" | "store">,
  downloadHosts = ["*.tim.qq.com"],
): ArchiveDeps {
  return {
    clock: fakeClock(NOW),
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    random: () => 0.5,
    config: {
      settleHours: 6,
      maxAttemptsPerFile: 5,
      downloadHosts,
      idleTimeoutMs: 5_000,
      retryBaseDelayMs: 10,
    },
    ...over,
  };
}

/** An 8 MiB history file (incompressible, so its GZip is as big), far more than any stream buffers. */
function bigFile(): { history: HistoryFile; gz: Buffer } {
  const plain = randomBytes(8 * 1024 * 1024);
  const gz = gzipSync(plain, { level: 1 });
  const expiresAt = NOW + 3_600_000;
  return {
    gz,
    history: {
      url: URL_A,
      expiresAt: new Date(expiresAt),
      expireTimeText: formatBeijing(expiresAt),
      fileSize: plain.length,
      fileMd5: md5(plain),
      gzipSize: gz.length,
      gzipMd5: md5(gz),
    },
  };
}

/** Serves `bytes` in 64 KiB pieces as they are read, counting what was read. */
function streamed(bytes: Buffer): { response: () => Response; served: () => number } {
  let served = 0;
  return {
    served: () => served,
    response: () =>
      new Response(
        new ReadableStream<Uint8Array>({
          pull(controller) {
            if (served >= bytes.length) return controller.close();
            const piece = bytes.subarray(served, served + 64 * 1024);
            served += piece.length;
            controller.enqueue(new Uint8Array(piece));
          },
        }),
      ),
  };
}

/** The promise `get` answers once it answers one (the server sets it when the request arrives). */
async function waitForRequest<T>(get: () => Promise<T> | undefined): Promise<T> {
  for (;;) {
    const promise = get();
    if (promise !== undefined) return promise;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function settlesWithin<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      setTimeout(() => reject(new Error(`did not settle within ${ms} ms`)), ms).unref();
    }),
  ]);
}

describe("archiveHour with a store that cannot be written", () => {
  it(
    "settles at once when the store rejects without reading, while a large download streams in",
    async () => {
      // Arrange: the put rejects 50 ms after the download began, never having read a byte of it.
      const file = bigFile();
      const download = streamed(file.gz);
      let downloadStarted: () => void = () => {};
      const started = new Promise<void>((resolve) => {
        downloadStarted = resolve;
      });
      const fetch = fakeFetch(
        new Map([
          [
            URL_A,
            () => {
              downloadStarted();
              return download.response();
            },
          ],
        ]),
      );
      const refusing: ArchiveStore = {
        ...createLocalStore({ root: dir }),
        put: async () => {
          await started;
          await new Promise((resolve) => setTimeout(resolve, 50));
          throw new StoreUnavailableError(
            "the local store cannot write /data/raw/a.gz: read-only file system (EROFS)",
            {
              code: "EROFS",
              path: "/data/raw/a.gz",
            },
          );
        },
      };

      // Act
      const run = archiveHour(job, deps({ store: refusing, getHistory: async () => [file.history], fetch }));

      // Assert: the store's error, after one attempt, and the download was dropped, not read to its end.
      await expect(settlesWithin(run, SETTLE_LIMIT_MS)).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(run).rejects.toThrow(/EROFS/);
      expect(fetch.calls).toHaveLength(1);
      expect(download.served()).toBeLessThan(file.gz.length);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "ends the download too when the store refused before the download answered",
    async () => {
      // Arrange: a loopback server answers 50 ms after the request; the put has rejected by then.
      const file = bigFile();
      let closedEarly: Promise<boolean> | undefined;
      const server = createServer((_request, response) => {
        closedEarly = new Promise((resolve) =>
          response.on("close", () => resolve(!response.writableFinished)),
        );
        setTimeout(() => {
          response.writeHead(200, { "content-length": file.gz.length });
          response.end(file.gz);
        }, 50);
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const history = { ...file.history, url: `${origin}/a.gz` };
      const refusing: ArchiveStore = {
        ...createLocalStore({ root: dir }),
        put: async () => {
          throw new StoreUnavailableError(
            "the local store cannot write /data/raw/a.gz: no space left on device (ENOSPC)",
            {
              code: "ENOSPC",
            },
          );
        },
      };

      try {
        // Act: node:http downloads (no fetch given), as in production.
        const run = archiveHour(
          job,
          deps({ store: refusing, getHistory: async () => [history], fetch: undefined }, [origin]),
        );

        // Assert: the store's error, and the server saw the download dropped before its end.
        await expect(settlesWithin(run, SETTLE_LIMIT_MS)).rejects.toThrow(/ENOSPC/);
        expect(
          await settlesWithin(
            waitForRequest(() => closedEarly),
            SETTLE_LIMIT_MS,
          ),
        ).toBe(true);
      } finally {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "fails after one attempt, naming the regular file in DATA_DIR's path (ENOTDIR)",
    async () => {
      // Arrange: DATA_DIR under a regular file, as when it names a file by mistake.
      await writeFile(join(dir, "not-a-dir"), "x");
      const store = createLocalStore({ root: join(dir, "not-a-dir", "data") });
      const file = bigFile();
      const download = streamed(file.gz);
      const fetch = fakeFetch(new Map([[URL_A, download.response]]));

      // Act
      const run = archiveHour(job, deps({ store, getHistory: async () => [file.history], fetch }));

      // Assert
      await expect(settlesWithin(run, SETTLE_LIMIT_MS)).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(run).rejects.toMatchObject({
        code: "ENOTDIR",
        message: expect.stringContaining(`not a directory at ${join(dir, "not-a-dir")} (ENOTDIR)`),
        retryable: false,
      });
      expect(fetch.calls.length).toBeLessThanOrEqual(1);
    },
    TEST_TIMEOUT_MS,
  );

  it("as a queue job: the job fails and says why in one log line, with no retry warnings", async () => {
    await writeFile(join(dir, "not-a-dir"), "x");
    const store = createLocalStore({ root: join(dir, "not-a-dir", "data") });
    const file = makeHistoryFile("C2C", MSG_TIME, 20, URL_A, NOW + 3_600_000);
    const lines: { level: string; message: string; fields: Record<string, unknown> | undefined }[] = [];
    const logger: Logger = {
      debug: (message, fields) => lines.push({ level: "debug", message, fields }),
      info: (message, fields) => lines.push({ level: "info", message, fields }),
      warn: (message, fields) => lines.push({ level: "warn", message, fields }),
      error: (message, fields) => lines.push({ level: "error", message, fields }),
    };
    const fetch = fakeFetch(new Map([[URL_A, () => new Response(file.gz)]]));

    const run = processJobMessage(
      JSON.stringify(job),
      deps({ store, logger, getHistory: async () => [file.history], fetch }),
      { attempt: 1, messageId: "m-1" },
    );

    await expect(run).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(lines.map((l) => [l.level, l.message])).toEqual([["error", "job failed"]]);
    expect(lines[0]?.fields).toMatchObject({
      errorType: "StoreUnavailableError",
      retryable: false,
      error: expect.stringMatching(/cannot write .*not a directory at .*not-a-dir \(ENOTDIR\)$/),
    });
  });
});
