/** The API benchmark's two load drivers, each its own process; bench/api.ts alternates them. */
import { createRequire } from "node:module";

/** What a load driver reports: client-side latency as it measured it. */
export interface DriverResult {
  requests: number;
  non2xx: number;
  errors: number;
  p50: number;
  p99: number;
  /** Paced driver only: the latest a request left after its scheduled time. */
  lateMaxMs?: number;
}
export type Driver = (url: string, token: string, seconds: number) => Promise<DriverResult>;

/** How a driver runs a Node child: `run` to completion with `env`, SIGKILLed after timeoutMs. */
export interface DriverContext {
  rate: number;
  body: string;
  run(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string>;
  env(extra: Record<string, string>): NodeJS.ProcessEnv;
}

const AUTOCANNON = createRequire(import.meta.url).resolve("autocannon/autocannon.js");
const PACED_DRIVER = new URL("./paced-driver.ts", import.meta.url).pathname;

interface CannonJson {
  latency: { p50: number; p99: number };
  requests: { total: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}

export function loadDrivers({ rate, body, run, env }: DriverContext): { autocannon: Driver; paced: Driver } {
  /**
   * autocannon's --overallRate is a per-second quota per connection (httpClient.js: a counter reset by
   * a 1 s setInterval), sent back to back: 10 connections send their 20 requests each as fast as the
   * server answers at the start of every second, then wait. Bursts at ~10 in flight, 200/s on average.
   */
  const autocannon: Driver = async (url, token, seconds) => {
    const args = [
      AUTOCANNON,
      "--json",
      "--connections",
      "10",
      "--overallRate",
      String(rate),
      "--duration",
      String(seconds),
      "--method",
      "POST",
      "--headers",
      `authorization=Bearer ${token}`,
      "--headers",
      "content-type=application/json",
      "--body",
      body,
      `${url}/v1/cos-sig`,
    ];
    const out = JSON.parse(await run(args, env({}), (seconds + 30) * 1000)) as CannonJson;
    return {
      requests: out.requests.total,
      non2xx: out.non2xx,
      errors: out.errors + out.timeouts,
      p50: out.latency.p50,
      p99: out.latency.p99,
    };
  };

  /** Open loop at a fixed rate (./paced-driver.ts). */
  const paced: Driver = async (url, token, seconds) => {
    const args = [PACED_DRIVER, `${url}/v1/cos-sig`, String(rate), String(seconds), body];
    return JSON.parse(await run(args, env({ BENCH_TOKEN: token }), (seconds + 30) * 1000)) as DriverResult;
  };
  return { autocannon, paced };
}
