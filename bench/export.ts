/**
 * Benchmark of `imvault export`: generated history (the benchmarks' generator) for both chat types
 * over two Beijing days, where most messages are from or to one account, with every media URL's
 * bytes archived (objects under media/, one media manifest per hour) and the message table indexed;
 * then, per format, `imvault export --user` (spawned, with peak RSS and CPU time, user + system)
 * beside `cp -r` of the export it wrote (the same files and bytes), in the same run. Nothing is
 * deleted until the end: on ext4, files made within seconds of many deletions cost far more system
 * time (the inode allocator skips recently freed inodes), so a step after a deletion is slowed
 * whichever program it times. And every timed step starts after a `sync` (not timed): otherwise it
 * runs while the kernel writes back what the step before it wrote (gigabytes: the generated media,
 * then each export and each copy), and is slowed by that, whichever program it times.
 *
 *   node bench/export.ts [--messages 160000] [--media-kib 24] [--formats jsonl,html,rsmf] [--keep]
 *                        [--bin path/to/imvault.js]
 *
 * --bin times another build of the command (an older one, say) instead of this checkout's, which is
 * then not bundled.
 *
 * The data directory is made under os.tmpdir(): TMPDIR=/some/fs runs it on another file system (e.g.
 * a fresh one, whose file creation has no history of deletions behind it; bench/README.md, "Export").
 */
import { spawnSync } from "node:child_process";
import { createCipheriv, createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  addHours,
  CHAT_TYPES,
  createLocalStore,
  type MediaManifest,
  mediaKey,
  mediaUrls,
  readGzipHistory,
  writeMediaManifest,
} from "@imvault/im-core";
import { bundleCli } from "../scripts/bundle-cli.ts";
import { writeArchivedHistory } from "./lib/archived-history.ts";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "160000" },
    "media-kib": { type: "string", default: "24" },
    formats: { type: "string", default: "jsonl,html,rsmf" },
    keep: { type: "boolean", default: false },
    bin: { type: "string" },
  },
});
const TOTAL = Number(values.messages);
const MEDIA_KIB = Number(values["media-kib"]);
const FORMATS = values.formats.split(",");
const BIN = values.bin ?? fileURLToPath(new URL("../packages/cli/bin/imvault.js", import.meta.url));
// Two Beijing days.
const FIRST = "2025010100";
const hours = Array.from({ length: 48 }, (_, i) => addHours(FIRST, i));
const USER = "reviewed_user";
// With two accounts, three C2C messages in four and one group message in two involve USER.
const USERS = [USER, "peer_user"];
const GROUPS = Array.from({ length: 10 }, (_, i) => `@TGS#BENCH${i}`);
const perFile = Math.max(1, Math.round(TOTAL / (hours.length * CHAT_TYPES.length)));
const dataDir = await mkdtemp(join(tmpdir(), "imvault-bench-export-"));

/** Runs `cmd` once what was written before it is on disk (the wait for that is not timed). */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  spawnSync("sync");
  const t = performance.now();
  // /usr/bin/time: the child's peak RSS in KiB and its CPU seconds (user, system), on stderr's last line.
  const r = spawnSync("/usr/bin/time", ["-f", "%M %U %S", cmd, ...args], {
    env,
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  const seconds = (performance.now() - t) / 1000;
  const [rssKiB, user, system] = (r.stderr.trim().split("\n").at(-1) ?? "").split(" ").map(Number);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr.slice(-800)}`);
  return { seconds, rssMiB: rssKiB! / 1024, cpu: user! + system!, stdout: r.stdout };
}

async function sizeOf(dir: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    bytes += (await stat(join(e.parentPath, e.name))).size;
    files++;
  }
  return { bytes, files };
}

/** Deterministic, incompressible bytes for a medium (AES-CTR keystream keyed by its URL): 1/2 to 3/2 of MEDIA_KIB. */
function mediaBytes(url: string): Buffer {
  const key = createHash("sha256").update(url).digest();
  const size = Math.round(MEDIA_KIB * 1024 * (0.5 + key[0]! / 255));
  const cipher = createCipheriv("aes-256-ctr", key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
}

/**
 * The archived media objects an export holds: the files under its media/ (jsonl, html), else those
 * its messages name (rsmf: inside the zips), taken from a jsonl export of the same request.
 */
async function exportedMediaKeys(out: string, format: string): Promise<string[]> {
  if (format !== "rsmf") {
    return (await readdir(join(out, "media"), { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name).slice(out.length + 1));
  }
  const probe = join(dataDir, "probe-jsonl");
  timed(BIN, ["export", "--user", USER, "--format", "jsonl", "--out", probe], {
    ...process.env,
    DATA_DIR: dataDir,
    NO_COLOR: "1",
  });
  const keys = await exportedMediaKeys(probe, "jsonl");
  return keys;
}

try {
  if (values.bin === undefined) await bundleCli();
  console.log(
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")} (uptime)`,
  );
  // Which file system the run is on (TMPDIR chooses it): file creation costs, and so both sides' times, depend on it.
  const fs = spawnSync("df", ["--output=source,fstype,size", dataDir], { encoding: "utf8" })
    .stdout.trim()
    .split("\n")
    .at(-1);
  console.log(`data directory ${dataDir} on ${fs ?? "?"}`);
  console.log(
    `generating ${hours.length} hours x ${CHAT_TYPES.length} chat types, ${perFile} messages a file, media ~${MEDIA_KIB} KiB …`,
  );
  const store = createLocalStore({ root: dataDir });
  let seed = 1;
  let mediaObjects = 0;
  let mediaTotal = 0;
  for (const msgTime of hours) {
    for (const chatType of CHAT_TYPES) {
      const { path } = await writeArchivedHistory(dataDir, {
        chatType,
        msgTime,
        messages: perFile,
        seed: seed++,
        users: USERS,
        groups: GROUPS,
      });
      // The hour's media as capture leaves them: each object stored, then the media manifest.
      const items: MediaManifest["items"] = [];
      const seen = new Set<string>();
      const { createReadStream } = await import("node:fs");
      for await (const ev of readGzipHistory(createReadStream(path))) {
        if (ev.kind !== "message") continue;
        for (const m of mediaUrls(ev.message)) {
          if (seen.has(m.url)) continue;
          seen.add(m.url);
          const bytes = mediaBytes(m.url);
          const objectKey = mediaKey(m.url);
          await mkdir(dirname(join(dataDir, objectKey)), { recursive: true });
          await writeFile(join(dataDir, objectKey), bytes);
          mediaObjects++;
          mediaTotal += bytes.length;
          items.push({
            rawUrl: m.url,
            status: "captured",
            tencentStatus: 0,
            key: objectKey,
            size: bytes.length,
            sha256: createHash("sha256").update(bytes).digest("hex"),
          });
        }
      }
      await writeMediaManifest(store, {
        version: 1,
        chatType,
        msgTime,
        items,
        capturedAt: new Date().toISOString(),
      });
    }
  }
  const env = { ...process.env, DATA_DIR: dataDir, NO_COLOR: "1" };
  timed(BIN, ["index", "--from", FIRST, "--to", hours.at(-1)!], env);
  console.log(
    `${perFile * hours.length * CHAT_TYPES.length} messages, ${mediaObjects} media objects (${(mediaTotal / 2 ** 20).toFixed(0)} MiB) archived and indexed`,
  );

  const rows: string[][] = [];
  let sourceList: string | undefined;
  for (const format of FORMATS) {
    const out = join(dataDir, `export-${format}`);
    const run = timed(BIN, ["export", "--user", USER, "--format", format, "--out", out], env);
    const size = await sizeOf(out);
    // Baseline 1: cp -r of what the export wrote (the same files and bytes).
    const copy = timed("cp", ["-r", out, `${out}-cp`]);
    // Baseline 2: cp of the archived media objects the export holds, from DATA_DIR (what it reads).
    if (sourceList === undefined) {
      const wanted = await exportedMediaKeys(out, format);
      sourceList = join(dataDir, "source-files.txt");
      await writeFile(sourceList, `${wanted.join("\n")}\n`);
    }
    const copySource = timed(
      "sh",
      [
        "-c",
        `mkdir '${out}-src' && cd '${dataDir}' && xargs -a '${sourceList}' cp --parents -t '${out}-src'`,
      ],
      {
        ...process.env,
      },
    );
    const exported = /exported (\d+) message/.exec(run.stdout)?.[1] ?? "?";
    rows.push([
      format,
      `${exported} msgs, ${size.files} files, ${(size.bytes / 2 ** 20).toFixed(0)} MiB`,
      `${run.seconds.toFixed(2)} s (${run.rssMiB.toFixed(0)} MiB RSS, CPU ${run.cpu.toFixed(1)} s)`,
      `cp -r export: ${copy.seconds.toFixed(2)} s = ${(run.seconds / copy.seconds).toFixed(2)}x (CPU ${copy.cpu.toFixed(1)} s)`,
      `cp media objects: ${copySource.seconds.toFixed(2)} s = ${(run.seconds / copySource.seconds).toFixed(2)}x`,
    ]);
  }
  console.log(
    `\nexport --user ${USER}, whole window (target ≤ 3x cp); load average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  for (const r of rows)
    console.log(`${r[0]!.padEnd(6)} ${r[1]!.padEnd(36)} ${r[2]!.padEnd(38)} ${r[3]!.padEnd(42)} ${r[4]}`);
} finally {
  if (values.keep) console.log(`data directory kept: ${dataDir}`);
  else await rm(dataDir, { recursive: true, force: true });
}
