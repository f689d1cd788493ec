/**
 * The API benchmark's paced load driver, run as its own process: an open loop at a fixed rate, request
 * i leaving at t0 + i/rate whatever the answers (keep-alive pool). Prints one JSON line: requests,
 * non2xx, errors, p50, p99 (ms) and lateMaxMs (the latest a request left after its scheduled time).
 *
 *   node bench/lib/paced-driver.ts URL RATE SECONDS BODY   (the token in BENCH_TOKEN)
 */
import http from "node:http";

const [url = "", rateText = "", secondsText = "", body = ""] = process.argv.slice(2);
const u = new URL(url);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const interval = 1000 / Number(rateText);
const n = Math.round(Number(rateText) * Number(secondsText));
const latencies: number[] = [];
let non2xx = 0;
let errors = 0;
let lateMax = 0;
let done = 0;
let i = 0;
const t0 = performance.now() + 20;

await new Promise<void>((resolve) => {
  const finish = () => {
    if (++done === n) resolve();
  };
  const send = () => {
    const start = performance.now();
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: "POST",
        agent,
        headers: {
          authorization: `Bearer ${process.env.BENCH_TOKEN}`,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on("end", () => {
          latencies.push(performance.now() - start);
          if (res.statusCode !== 200) non2xx++;
          finish();
        });
      },
    );
    req.on("error", () => {
      errors++;
      finish();
    });
    req.setTimeout(10_000, () => req.destroy(new Error("timeout")));
    req.end(body);
  };
  const tick = () => {
    const now = performance.now();
    while (i < n && t0 + i * interval <= now) {
      lateMax = Math.max(lateMax, now - (t0 + i * interval));
      send();
      i++;
    }
    if (i < n) setTimeout(tick, Math.max(0, t0 + i * interval - performance.now()));
  };
  tick();
});
agent.destroy();
latencies.sort((a, b) => a - b);
const p = (q: number) =>
  latencies[Math.min(latencies.length - 1, Math.max(0, Math.ceil(q * latencies.length) - 1))] ?? Number.NaN;
process.stdout.write(
  JSON.stringify({
    requests: latencies.length,
    non2xx,
    errors,
    p50: p(0.5),
    p99: p(0.99),
    lateMaxMs: lateMax,
  }),
);
