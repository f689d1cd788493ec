/**
 * Setting up a media benchmark against an IM simulator child: archive some hours into a local store
 * (im-core, in this process), read back their media URLs, give the objects sizes (POST /__sim/media),
 * and ask for PreSigURLs for the curl side.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
  addHours,
  archiveHour,
  type ChatType,
  createLocalStore,
  defaultArchiveConfig,
  getCosSig,
  getHistory,
  hourOf,
  ImClient,
  type MsgTime,
  mediaKey,
  mediaUrls,
  readGzipHistory,
  readManifest,
  silentLogger,
  systemClock,
} from "@imvault/im-core";
import { TEST_ADMIN, TEST_SDKAPPID, TEST_SECRET_KEY } from "@imvault/im-sim";
import { track } from "./children.ts";

const SIM_BIN = fileURLToPath(new URL("../../packages/im-sim/bin/imvault-sim.ts", import.meta.url));

export interface SimChild {
  url: string;
  pid: number;
  client: ImClient;
}

/** Starts the simulator's bin (127.0.0.1, any port) with `args`; Tencent's 10 calls/s limit unless told. */
export async function startSim(args: string[]): Promise<SimChild> {
  const child = track(
    spawn(process.execPath, [SIM_BIN, "--port", "0", "--processing-delay-minutes", "0", ...args], {
      stdio: ["ignore", "pipe", "inherit"],
    }),
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`simulator did not start: ${out}`)), 30_000);
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`simulator exited (${code}): ${out}`));
    });
  });
  const client = new ImClient({
    sdkAppId: TEST_SDKAPPID,
    identifier: TEST_ADMIN,
    secretKey: TEST_SECRET_KEY,
    baseUrl: url,
  });
  return { url, pid: child.pid!, client };
}

export interface ArchivedHour {
  chatType: ChatType;
  msgTime: MsgTime;
  /** The hour's distinct media URLs, in order of appearance. */
  urls: string[];
}

/** The `n`th hour back from three hours ago (well past the processing delay, inside retention). */
export const hourBack = (n: number): MsgTime => addHours(hourOf(Date.now()), -3 - n);

/** Archives one hour into the local store at `root` and answers its distinct media URLs. */
export async function archiveWithMedia(
  sim: SimChild,
  root: string,
  chatType: ChatType,
  msgTime: MsgTime,
): Promise<ArchivedHour> {
  const store = createLocalStore({ root });
  const result = await archiveHour(
    { v: 1, chatType, msgTime },
    {
      getHistory: (c, h, signal) => getHistory(sim.client, c, h, signal ? { signal } : {}),
      store,
      clock: systemClock,
      logger: silentLogger,
      config: defaultArchiveConfig([sim.url]),
    },
  );
  if (result.outcome !== "archived") throw new Error(`hour ${chatType} ${msgTime}: ${result.outcome}`);
  const seen = new Set<string>();
  for (const file of (await readManifest(store, chatType, msgTime))!.files) {
    for await (const ev of readGzipHistory(await store.get(file.key))) {
      if (ev.kind === "message") for (const m of mediaUrls(ev.message)) seen.add(m.url);
    }
  }
  return { chatType, msgTime, urls: [...seen] };
}

/** Gives each media object its size in bytes (POST /__sim/media, a few hundred at a time). */
export async function setSizes(sim: SimChild, sizes: Map<string, number>): Promise<void> {
  const entries = [...sizes];
  for (let i = 0; i < entries.length; i += 400) {
    const res = await fetch(`${sim.url}/__sim/media`, {
      method: "POST",
      body: JSON.stringify({ sizes: Object.fromEntries(entries.slice(i, i + 400)) }),
    });
    if (!res.ok) throw new Error(`POST /__sim/media answered ${res.status}: ${await res.text()}`);
  }
}

/** A size for each distinct object of `urls`, uniform in [min, max] bytes, the same every run. */
export function seededSizes(urls: string[], min: number, max: number): Map<string, number> {
  let x = 0x9e3779b9;
  const sizes = new Map<string, number>();
  const keys = new Set<string>();
  for (const url of urls) {
    const key = mediaKey(url);
    if (keys.has(key)) continue;
    keys.add(key);
    // xorshift32
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    sizes.set(url, min + ((x >>> 0) % (max - min + 1)));
  }
  return sizes;
}

/** PreSigURLs (status 0 and 1) for the distinct objects of `urls`, through the simulator's get_cos_sig. */
export async function preSigUrls(sim: SimChild, urls: string[]): Promise<Map<string, string>> {
  const items = urls.map((RawURL, ResourceID) => ({ ResourceID, RawURL }));
  const answers = await getCosSig(sim.client, items, { chunkSize: 100 });
  const out = new Map<string, string>();
  for (const a of answers) if (a.Code === 0 && a.PreSigURL !== "") out.set(urls[a.ResourceID]!, a.PreSigURL);
  return out;
}

export interface SimRecords {
  requests: { at: number; command?: string; code?: number }[];
  downloads: { at: number; target: string; path: string; status: number; complete: boolean }[];
}

export async function simRecords(sim: SimChild): Promise<SimRecords> {
  return (await (await fetch(`${sim.url}/__sim/requests`)).json()) as SimRecords;
}

export async function forgetRecords(sim: SimChild): Promise<void> {
  await fetch(`${sim.url}/__sim/requests`, { method: "DELETE" });
}

/** get_cos_sig calls: how many, the most in any 1 s (sliding, by the simulator's clock), and 60007s. */
export function cosSigRate(records: SimRecords): {
  calls: number;
  maxPerSecond: number;
  rateLimited: number;
} {
  const calls = records.requests.filter((r) => r.command === "get_cos_sig");
  const at = calls.map((r) => r.at).sort((a, b) => a - b);
  let maxPerSecond = 0;
  for (let i = 0, j = 0; i < at.length; i++) {
    while (at[i]! - at[j]! >= 1000) j++;
    maxPerSecond = Math.max(maxPerSecond, i - j + 1);
  }
  return { calls: calls.length, maxPerSecond, rateLimited: calls.filter((r) => r.code === 60007).length };
}
