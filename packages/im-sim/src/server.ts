import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ChatType } from "@imvault/im-core";
import { handleApi } from "./api.ts";
import { type CachedHour, cachedHour } from "./cache.ts";
import type { SimContext } from "./context.ts";
import { handleControl } from "./control.ts";
import { handleFileDownload, handleMediaDownload } from "./downloads.ts";
import { type FaultControl, Faults } from "./faults.ts";
import {
  computeFigures,
  defaultVolume,
  type FileFigures,
  type HourSpec,
  type HourVolume,
} from "./generator.ts";
import { sendText } from "./http-util.ts";
import { mediaKeys } from "./media.ts";
import {
  type SimulatorOptions,
  TEST_ADMIN,
  TEST_SDKAPPID,
  TEST_SECRET_KEY,
  type VolumeSetting,
} from "./options.ts";
import { hash32, unitHash } from "./prng.ts";
import { RateLimiter } from "./rate-limit.ts";
import type { SeenDownload, SeenRequest } from "./records.ts";

export interface Simulator {
  /** `http://127.0.0.1:<port>`: the IM base URL (IM_BASE_URL) to point a client at. */
  url: string;
  port: number;
  sdkAppId: number;
  admins: readonly string[];
  /** Live records of REST calls and downloads (the oldest dropped beyond maxRecords). */
  requests: SeenRequest[];
  downloads: SeenDownload[];
  faults: FaultControl;
  /** The figures of an hour's files as get_history would advertise them (generates the hour once). */
  hourFiles(chatType: ChatType, msgTime: string): Promise<FileFigures[]>;
  /** Stops listening and cuts every open connection (stalled downloads included). */
  close(): Promise<void>;
}

const MAX_FIGURE_CACHE = 20_000;

function toVolume(v: VolumeSetting): HourVolume {
  return typeof v === "number" ? { messages: v } : v;
}

function toPredicate(rule: Iterable<string> | ((x: string) => boolean) | undefined): (x: string) => boolean {
  if (rule === undefined) return () => false;
  if (typeof rule === "function") return rule;
  const set = new Set(rule);
  return (x) => set.has(x);
}

function checkNumber(name: string, v: number, min: number, max = Number.POSITIVE_INFINITY): number {
  if (typeof v !== "number" || Number.isNaN(v) || v < min || v > max) {
    throw new RangeError(`simulator option ${name} must be a number from ${min} to ${max}, got ${v}`);
  }
  return v;
}

/** Starts a Tencent IM REST API simulator on 127.0.0.1. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const sdkAppId = options.sdkAppId ?? TEST_SDKAPPID;
  const secretKey = options.secretKey ?? TEST_SECRET_KEY;
  const admins = [...(options.admins ?? [TEST_ADMIN])];
  const seed = String(options.seed ?? "imvault-sim");
  const clock = options.clock ?? { now: () => Date.now() };
  const maxFileBytes = checkNumber("maxFileBytes", options.maxFileBytes ?? 512 * 1024 * 1024, 1);
  const gzipLevel = checkNumber("gzipLevel", options.gzipLevel ?? 6, 1, 9);
  const bannedFraction = checkNumber("bannedFraction", options.bannedFraction ?? 0.02, 0, 1);
  const missingFraction = checkNumber("missingFraction", options.missingFraction ?? 0.01, 0, 1);
  const isBanned = toPredicate(options.bannedUrls);
  const isMissing = toPredicate(options.missingUrls);
  const empty = options.emptyHours;
  const isEmptyRule =
    typeof empty === "function"
      ? empty
      : (
          (set) => (c: ChatType, t: string) =>
            set.has(`${c}:${t}`)
        )(new Set(empty ?? []));
  const volume = options.volume;
  const volumeOf = (c: ChatType, t: string): HourVolume =>
    volume === undefined
      ? defaultVolume(seed, sdkAppId, c, t)
      : toVolume(typeof volume === "function" ? volume(c, t) : volume);

  const cacheDir = options.cacheDir;
  // Figures (and, with cacheDir, where each file's bytes are) of the hours asked for so far.
  const figureCache = new Map<string, Promise<CachedHour>>();
  const hour = (chatType: ChatType, msgTime: string): Promise<CachedHour> => {
    const key = `${chatType}:${msgTime}`;
    let p = figureCache.get(key);
    if (p === undefined) {
      const spec = sim.hourSpec(chatType, msgTime);
      p =
        cacheDir === undefined
          ? computeFigures(spec, gzipLevel, closed.signal).then((files) => ({ files, paths: [] }))
          : cachedHour(cacheDir, spec, gzipLevel, closed.signal);
      p.catch(() => figureCache.delete(key));
      if (figureCache.size >= MAX_FIGURE_CACHE) figureCache.delete(figureCache.keys().next().value!);
      figureCache.set(key, p);
    }
    return p;
  };
  let seq = 0;
  let origin = "";
  const faults = new Faults();
  const closed = new AbortController();

  const sim: SimContext = {
    sdkAppId,
    secretKey,
    admins: new Set(admins),
    seed,
    retentionMs: checkNumber("retentionHours", options.retentionHours ?? 168, 0) * 3_600_000,
    processingDelayMs:
      checkNumber("processingDelayMinutes", options.processingDelayMinutes ?? 60, 0) * 60_000,
    gzipLevel,
    urlTtlSeconds: checkNumber("urlTtlSeconds", options.urlTtlSeconds ?? 3600, 1),
    presignTtlSeconds: checkNumber("presignTtlSeconds", options.presignTtlSeconds ?? 900, 1),
    clock,
    publicOrigin: () => options.downloadBaseUrl?.replace(/\/+$/, "") ?? origin,
    tokenKey: `imvault-sim|${seed}|${hash32(`${secretKey}|${sdkAppId}`)}`,
    mediaKeys: mediaKeys(seed, sdkAppId),
    rate: new RateLimiter(checkNumber("rateLimitPerSecond", options.rateLimitPerSecond ?? 10, 1)),
    faults,
    requests: [],
    downloads: [],
    maxRecords: checkNumber("maxRecords", options.maxRecords ?? 10_000, 1),
    nextSeq: () => ++seq,
    isEmptyHour: (c, t) => isEmptyRule(c, t),
    hourSpec: (chatType, msgTime): HourSpec => ({
      seed,
      sdkAppId,
      chatType,
      msgTime,
      volume: volumeOf(chatType, msgTime),
      maxFileBytes,
    }),
    figures: (chatType, msgTime) => hour(chatType, msgTime).then((h) => h.files),
    async cachedFile(chatType, msgTime, index, gzipSize) {
      if (cacheDir === undefined) return undefined;
      const { files, paths } = await hour(chatType, msgTime);
      // A token minted for other figures (another run's settings) is served by regenerating it.
      return files[index]?.gzipSize === gzipSize ? paths[index] : undefined;
    },
    cosStatus(rawUrl, media) {
      if (isBanned(rawUrl)) return 1;
      if (isMissing(rawUrl)) return 2;
      if (media === undefined) return 2;
      const u = unitHash(`cos-status|${seed}|${media.objectPath}`);
      if (u < bannedFraction) return 1;
      if (u < bannedFraction + missingFraction) return 2;
      return 0;
    },
  };

  const info = () => ({
    url: origin,
    sdkAppId,
    admins,
    seed,
    retentionHours: sim.retentionMs / 3_600_000,
    processingDelayMinutes: sim.processingDelayMs / 60_000,
    rateLimitPerSecond: options.rateLimitPerSecond ?? 10,
    urlTtlSeconds: sim.urlTtlSeconds,
    presignTtlSeconds: sim.presignTtlSeconds,
    maxFileBytes,
    gzipLevel,
    cacheDir: cacheDir ?? null,
  });
  const controlApi = options.controlApi ?? true;

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (path.startsWith("/v4/")) return handleApi(sim, req, res);
    if (path.startsWith("/download/")) return handleFileDownload(sim, req, res);
    if (path.startsWith("/cos/")) return handleMediaDownload(sim, req, res);
    if (controlApi && path.startsWith("/__sim/")) return handleControl(sim, info, req, res);
    // Tencent answers an unknown REST path with 1001 inside a 200; anything else here is just absent.
    sendText(res, 404, "not found");
  };

  const server = createServer((req, res) => {
    route(req, res).catch(() => {
      if (!res.headersSent) sendText(res, 500, "simulator error");
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url: origin,
    port,
    sdkAppId,
    admins,
    requests: sim.requests,
    downloads: sim.downloads,
    faults,
    hourFiles: (chatType, msgTime) => sim.figures(chatType, msgTime),
    close() {
      closing ??= new Promise<void>((resolve) => {
        closed.abort(new Error("simulator closed"));
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
