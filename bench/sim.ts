/**
 * Benchmark of the IM simulator: a 1 GiB-uncompressed hour, generated (figures pass) and served over
 * HTTP, downloaded to nowhere while both MD5s are verified. The simulator runs as its own process (its
 * bin) so that its peak RSS (VmHWM) can be read apart from this client's.
 *
 *   npx node bench/sim.ts [--bytes N] [--gzip-level L] [--max-file-bytes N]
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createGunzip } from "node:zlib";
import { genUserSig, hourOf } from "@imvault/im-core";
import { TEST_ADMIN, TEST_SDKAPPID, TEST_SECRET_KEY } from "@imvault/im-sim";

const { values } = parseArgs({
  options: {
    bytes: { type: "string", default: String(1024 ** 3) },
    "gzip-level": { type: "string", default: "6" },
    "max-file-bytes": { type: "string", default: String(512 * 1024 ** 2) },
  },
});
const BIN = fileURLToPath(new URL("../packages/im-sim/bin/imvault-sim.ts", import.meta.url));
const MB = 1e6;

function procStatus(pid: number): { hwm: string; rss: string } {
  const text = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (k: string) =>
    /\s*(\d+ kB)/.exec(text.split("\n").find((l) => l.startsWith(k)) ?? "")?.[1] ?? "?";
  return { hwm: field("VmHWM:"), rss: field("VmRSS:") };
}

const child = spawn(
  process.execPath,
  [
    BIN,
    "--port",
    "0",
    "--bytes-per-hour",
    values.bytes,
    "--max-file-bytes",
    values["max-file-bytes"],
    "--gzip-level",
    values["gzip-level"],
    "--processing-delay-minutes",
    "0",
  ],
  { stdio: ["ignore", "pipe", "inherit"] },
);
const pid = child.pid!;
try {
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once("exit", () => reject(new Error(`simulator exited: ${out}`)));
  });
  const baseline = procStatus(pid);

  const msgTime = hourOf(Date.now() - 3 * 3_600_000);
  const sig = genUserSig({
    sdkAppId: TEST_SDKAPPID,
    identifier: TEST_ADMIN,
    secretKey: TEST_SECRET_KEY,
    expireSeconds: 86_400,
    issuedAt: Math.floor(Date.now() / 1000),
  });
  const q = `sdkappid=${TEST_SDKAPPID}&identifier=${TEST_ADMIN}&usersig=${sig}&random=1&contenttype=json`;
  let t = performance.now();
  const answer = (await (
    await fetch(`${url}/v4/open_msg_svc/get_history?${q}`, {
      method: "POST",
      body: JSON.stringify({ ChatType: "C2C", MsgTime: msgTime }),
    })
  ).json()) as {
    ErrorCode: number;
    File: { URL: string; FileSize: number; FileMD5: string; GzipSize: number; GzipMD5: string }[];
  };
  const figuresSec = (performance.now() - t) / 1000;
  if (answer.ErrorCode !== 0) throw new Error(`get_history answered ${answer.ErrorCode}`);
  const plainTotal = answer.File.reduce((a, f) => a + f.FileSize, 0);
  const gzipTotal = answer.File.reduce((a, f) => a + f.GzipSize, 0);
  const afterFigures = procStatus(pid);

  t = performance.now();
  let ok = true;
  for (const f of answer.File) {
    const res = await fetch(f.URL);
    const gzMd5 = createHash("md5");
    const plainMd5 = createHash("md5");
    let gzBytes = 0;
    let plainBytes = 0;
    const gunzip = createGunzip({ chunkSize: 64 * 1024 });
    gunzip.on("data", (c: Buffer) => {
      plainMd5.update(c);
      plainBytes += c.length;
    });
    const done = new Promise((resolve, reject) => gunzip.on("end", resolve).on("error", reject));
    for await (const c of res.body!) {
      gzMd5.update(c as Uint8Array);
      gzBytes += (c as Uint8Array).length;
      if (!gunzip.write(c)) await new Promise((r) => gunzip.once("drain", r));
    }
    gunzip.end();
    await done;
    const match =
      gzBytes === f.GzipSize &&
      gzMd5.digest("hex") === f.GzipMD5 &&
      plainBytes === f.FileSize &&
      plainMd5.digest("hex") === f.FileMD5;
    ok &&= match;
    console.log(
      `file ${new URL(f.URL).pathname.split("/").pop()}: plain ${f.FileSize} B, gzip ${f.GzipSize} B, MD5s ${match ? "match" : "MISMATCH"}`,
    );
  }
  const serveSec = (performance.now() - t) / 1000;
  const end = procStatus(pid);

  console.log(
    [
      `hour ${msgTime} C2C: ${answer.File.length} file(s), plain ${(plainTotal / MB).toFixed(1)} MB, gzip ${(gzipTotal / MB).toFixed(1)} MB (level ${values["gzip-level"]})`,
      `figures pass (generate + gzip + hash, first get_history): ${figuresSec.toFixed(1)} s = ${(plainTotal / MB / figuresSec).toFixed(1)} MB/s plain, ${(gzipTotal / MB / figuresSec).toFixed(1)} MB/s gzip`,
      `serve pass (regenerate + gzip, HTTP to this client, which gunzips and verifies both MD5s): ${serveSec.toFixed(1)} s = ${(plainTotal / MB / serveSec).toFixed(1)} MB/s plain, ${(gzipTotal / MB / serveSec).toFixed(1)} MB/s gzip`,
      `simulator RSS: at start ${baseline.rss}, after figures ${afterFigures.rss}, at end ${end.rss}; peak (VmHWM) ${end.hwm}`,
      `verified: ${ok ? "all sizes and MD5s match" : "MISMATCH"}`,
      `cores: ${(await import("node:os")).availableParallelism()}, load average ${(await import("node:os"))
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(" ")}`,
    ].join("\n"),
  );
  if (!ok) process.exitCode = 1;
} finally {
  child.kill("SIGTERM");
}
