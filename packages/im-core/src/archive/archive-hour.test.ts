import { createHash } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buffer } from "node:stream/consumers";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fakeClock, fakeFetch, makeHistoryFile } from "../../testing/history.ts";
import { ImApiError, UrlNotAllowedError } from "../errors.ts";
import type { HistoryFile } from "../im/types.ts";
import { createLocalStore } from "../store/local-store.ts";
import type { ArchiveStore } from "../store/port.ts";
import { hourEnd } from "../time/msgtime.ts";
import { silentLogger } from "../util/log.ts";
import { spareGunzipThread } from "../verify/worker-plain-side.ts";
import { type ArchiveDeps, ArchiveFailedError, archiveHour } from "./archive-hour.ts";
import { manifestKey, rawKey } from "./layout.ts";
import { readManifest } from "./manifest.ts";

const MSG_TIME = "2026112009";
const job = { v: 1, chatType: "C2C", msgTime: MSG_TIME } as const;
const URL_A = "https://download.tim.qq.com/msg_history/1/a.gz?sign=s3cr3t";
const URL_B = "https://download.tim.qq.com/msg_history/1/b.gz?sign=s3cr3t";
const NOW = hourEnd(MSG_TIME) + 2 * 3_600_000; // two hours after the hour ended

let dir: string;
let store: ArchiveStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "imvault-archive-"));
  store = createLocalStore({ root: dir });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function deps(over: Partial<ArchiveDeps> & Pick<ArchiveDeps, "getHistory" | "fetch">): ArchiveDeps {
  return {
    store,
    clock: fakeClock(NOW),
    logger: silentLogger,
    random: () => 0.5,
    config: {
      settleHours: 6,
      maxAttemptsPerFile: 3,
      downloadHosts: ["*.tim.qq.com"],
      idleTimeoutMs: 5_000,
      retryBaseDelayMs: 10,
    },
    ...over,
  };
}

const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");
const imError = (code: number) =>
  new ImApiError({ command: "get_history", code, info: "x", retryable: false });

async function storedKeys(): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list("")) keys.push(o.key);
  return keys;
}

describe("archiveHour", () => {
  it("stores every file of a multi-file hour byte-identical, then writes the manifest", async () => {
    const a = makeHistoryFile("C2C", MSG_TIME, 50, URL_A, NOW + 3_600_000);
    const b = makeHistoryFile("C2C", MSG_TIME, 7, URL_B, NOW + 3_600_000);
    const fetch = fakeFetch(
      new Map([
        [URL_A, () => new Response(a.gz)],
        [URL_B, () => new Response(b.gz)],
      ]),
    );

    const result = await archiveHour(job, deps({ getHistory: async () => [a.history, b.history], fetch }));

    expect(result).toMatchObject({ outcome: "archived", files: 2, bytes: a.gz.length + b.gz.length });
    const storedA = await buffer(await store.get(rawKey("C2C", MSG_TIME, "a.gz")));
    expect(storedA.equals(a.gz)).toBe(true);
    const manifest = await readManifest(store, "C2C", MSG_TIME);
    expect(manifest?.status).toBe("archived");
    // Exactly the manifest's fields: no download URL (its query may carry a signature), no expiry.
    expect(Object.keys(manifest!.files[0]!).sort()).toEqual(
      [
        "fileMd5",
        "fileSha256",
        "fileSize",
        "gzipMd5",
        "gzipSha256",
        "gzipSize",
        "key",
        "messageCount",
        "sourceUrl",
      ].sort(),
    );
    // The SHA-256s of the GZip and plain bytes, from the verifier's one pass over the download.
    const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
    expect(manifest?.files.map((f) => [f.gzipSha256, f.fileSha256])).toEqual([
      [sha256(a.gz), sha256(gunzipSync(a.gz))],
      [sha256(b.gz), sha256(gunzipSync(b.gz))],
    ]);
    expect(manifest?.files.map((f) => [f.key, f.messageCount, f.sourceUrl])).toEqual([
      ["raw/chat_type=C2C/dt=2026-11-20/hour=09/a.gz", 50, "https://download.tim.qq.com/msg_history/1/a.gz"],
      ["raw/chat_type=C2C/dt=2026-11-20/hour=09/b.gz", 7, "https://download.tim.qq.com/msg_history/1/b.gz"],
    ]);
  });

  it("has a gunzip thread booting while get_history is on its way", async () => {
    const waiting = spareGunzipThread();
    if (waiting !== undefined) await waiting.terminate();
    const a = makeHistoryFile("C2C", MSG_TIME, 3, URL_A, NOW + 3_600_000);
    const fetch = fakeFetch(new Map([[URL_A, () => new Response(a.gz)]]));
    let warmWhenAsked: boolean | undefined;
    const getHistory = async () => {
      warmWhenAsked = spareGunzipThread() !== undefined;
      return [a.history];
    };

    await archiveHour(job, deps({ getHistory, fetch }));

    expect(warmWhenAsked).toBe(true);
  });

  it("skips an hour that already has a manifest without asking Tencent", async () => {
    const a = makeHistoryFile("C2C", MSG_TIME, 3, URL_A, NOW + 3_600_000);
    const fetch = fakeFetch(new Map([[URL_A, () => new Response(a.gz)]]));
    let asked = 0;
    const getHistory = async () => {
      asked++;
      return [a.history];
    };
    await archiveHour(job, deps({ getHistory, fetch }));

    const again = await archiveHour(job, deps({ getHistory, fetch }));

    expect(again.outcome).toBe("skipped");
    expect(asked).toBe(1);
  });

  it("answers pending for 1004 within the settle window and writes nothing", async () => {
    const result = await archiveHour(
      job,
      deps({
        getHistory: async () => {
          throw imError(1004);
        },
        fetch: fakeFetch(new Map()),
      }),
    );
    expect(result.outcome).toBe("pending");
    expect(await storedKeys()).toEqual([]);
  });

  it("writes an empty manifest for 1004 once the hour has settled", async () => {
    const result = await archiveHour(
      job,
      deps({
        clock: fakeClock(hourEnd(MSG_TIME) + 6 * 3_600_000),
        getHistory: async () => {
          throw imError(1004);
        },
        fetch: fakeFetch(new Map()),
      }),
    );
    expect(result.outcome).toBe("empty");
    expect((await readManifest(store, "C2C", MSG_TIME))?.status).toBe("empty");
  });

  it("writes an expired manifest for 1005", async () => {
    const result = await archiveHour(
      job,
      deps({
        getHistory: async () => {
          throw imError(1005);
        },
        fetch: fakeFetch(new Map()),
      }),
    );
    expect(result.outcome).toBe("expired");
    expect((await readManifest(store, "C2C", MSG_TIME))?.status).toBe("expired");
  });

  it("propagates other Tencent errors and writes nothing", async () => {
    const run = archiveHour(
      job,
      deps({
        getHistory: async () => {
          throw imError(70009);
        },
        fetch: fakeFetch(new Map()),
      }),
    );
    await expect(run).rejects.toMatchObject({ code: 70009 });
    expect(await storedKeys()).toEqual([]);
  });

  it("retries a corrupt download with a fresh URL and ends byte-identical", async () => {
    const a = makeHistoryFile("C2C", MSG_TIME, 20, URL_A, NOW + 3_600_000);
    const corrupt = Buffer.from(a.gz);
    corrupt[Math.floor(corrupt.length / 2)]! ^= 0xff;
    const fetch = fakeFetch(new Map([[URL_A, (n: number) => new Response(n === 1 ? corrupt : a.gz)]]));
    let asked = 0;

    const result = await archiveHour(
      job,
      deps({
        getHistory: async () => {
          asked++;
          return [a.history];
        },
        fetch,
      }),
    );

    expect(result).toMatchObject({ outcome: "archived", attempts: 2 });
    expect(asked).toBe(2); // the retry asked get_history for a fresh URL
    expect((await buffer(await store.get(rawKey("C2C", MSG_TIME, "a.gz")))).equals(a.gz)).toBe(true);
  });

  it.each([
    ["the bytes are cut short", (gz: Buffer) => new Response(gz.subarray(0, gz.length - 10))],
    ["the download answers 502", () => new Response("bad gateway", { status: 502 })],
  ])(
    "fails with a typed error after the last attempt and leaves no file, temp file or manifest when %s",
    async (_, answer) => {
      const a = makeHistoryFile("C2C", MSG_TIME, 20, URL_A, NOW + 3_600_000);
      const fetch = fakeFetch(new Map([[URL_A, () => answer(a.gz)]]));

      const run = archiveHour(job, deps({ getHistory: async () => [a.history], fetch }));

      await expect(run).rejects.toBeInstanceOf(ArchiveFailedError);
      expect(fetch.calls).toHaveLength(3);
      expect(await storedKeys()).toEqual([]);
      expect(await readdir(join(dir, ".imvault", "tmp")).catch(() => [])).toEqual([]);
    },
  );

  it("has the store getting ready while the download request is on its way", async () => {
    const a = makeHistoryFile("C2C", MSG_TIME, 5, URL_A, NOW + 3_600_000);
    const puts: string[] = [];
    const watched: ArchiveStore = {
      ...store,
      put: (key, body, o) => {
        puts.push(key);
        return store.put(key, body, o);
      },
    };
    let putsWhenAsked: string[] | undefined;
    const fetch = fakeFetch(
      new Map([
        [
          URL_A,
          () => {
            putsWhenAsked = [...puts];
            return new Response(a.gz);
          },
        ],
      ]),
    );

    await archiveHour(job, deps({ store: watched, getHistory: async () => [a.history], fetch }));

    expect(putsWhenAsked).toEqual([rawKey("C2C", MSG_TIME, "a.gz")]);
  });

  it("asks for a fresh URL before downloading when the advertised one has expired", async () => {
    const stale = makeHistoryFile("C2C", MSG_TIME, 5, URL_A, NOW - 1000);
    const fresh: HistoryFile = { ...stale.history, url: URL_B, expiresAt: new Date(NOW + 3_600_000) };
    const fetch = fakeFetch(new Map([[URL_B, () => new Response(stale.gz)]]));
    const answers = [[stale.history], [fresh]];

    const result = await archiveHour(job, deps({ getHistory: async () => answers.shift()!, fetch }));

    expect(result.outcome).toBe("archived");
    expect(fetch.calls).toEqual([URL_B]);
  });

  it("refuses a download URL off the allow-list before fetching any byte", async () => {
    const evil = makeHistoryFile("C2C", MSG_TIME, 5, "https://evil.example.com/a.gz", NOW + 3_600_000);
    const fetch = fakeFetch(new Map());

    const run = archiveHour(job, deps({ getHistory: async () => [evil.history], fetch }));

    await expect(run).rejects.toBeInstanceOf(UrlNotAllowedError);
    expect(fetch.calls).toEqual([]);
  });

  it("removes files an earlier unfinished run left under the hour", async () => {
    const a = makeHistoryFile("C2C", MSG_TIME, 5, URL_A, NOW + 3_600_000);
    const stray = rawKey("C2C", MSG_TIME, "old-name.gz");
    await store.put(stray, "partial leftovers");
    const fetch = fakeFetch(new Map([[URL_A, () => new Response(a.gz)]]));

    await archiveHour(job, deps({ getHistory: async () => [a.history], fetch }));

    expect(await storedKeys()).toEqual([manifestKey("C2C", MSG_TIME), rawKey("C2C", MSG_TIME, "a.gz")]);
  });

  it("keeps a file that matches Tencent's figures but not the documented layout, noting it", async () => {
    const a = makeHistoryFile("C2C", MSG_TIME, 3, URL_A, NOW + 3_600_000);
    // The same JSON on one line, with Tencent's figures advertised for exactly these bytes.
    const plain = Buffer.from(a.plain.toString("utf8").replace(/\n/g, ""));
    const gz = gzipSync(plain);
    const history = {
      ...a.history,
      fileSize: plain.length,
      fileMd5: md5(plain),
      gzipSize: gz.length,
      gzipMd5: md5(gz),
    };
    const fetch = fakeFetch(new Map([[URL_A, () => new Response(gz)]]));

    const result = await archiveHour(job, deps({ getHistory: async () => [history], fetch }));

    expect(result.outcome).toBe("archived");
    const manifest = await readManifest(store, "C2C", MSG_TIME);
    expect(manifest?.files[0]?.framingProblem).toMatch(/line 1/);
    expect((await buffer(await store.get(rawKey("C2C", MSG_TIME, "a.gz")))).equals(gz)).toBe(true);
  });
});
