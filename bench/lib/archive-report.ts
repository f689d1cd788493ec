/** bench:archive's report: the figures of one hour's runs, their ratios and the targets' verdicts. */
import type { ChatType, HistoryFile } from "@imvault/im-core";

export const MiB = 1024 * 1024;
/** The issue's "200 MB" peak RSS target, in MiB. */
export const RSS_LIMIT_MIB = 200e6 / MiB;

export type StoreKind = "local" | "s3";

/** One timed run of a contender. */
export interface Sample {
  ms: number;
  /** Baselines only: spawn to exit of the program (`ms` is its work alone). */
  programMs?: number;
  /** imvault only: simulator's download request → CLI exit. */
  transferMs?: number;
  /** imvault only: spawn → simulator's get_history (Node start-up, module loading, config). */
  startupMs?: number;
  maxRssMiB?: number;
  /** imvault only: CPU seconds of the CLI (all its threads), and of the simulator and fauxqs meanwhile. */
  cpu?: { imvault: number; simulator: number; fauxqs?: number };
}

/** The hour a report is about. */
export interface ReportTarget {
  sizeMiB: number;
  chatType: ChatType;
  msgTime: string;
  file: HistoryFile;
}

export const best = (samples: Sample[], pick: (s: Sample) => number | undefined = (s) => s.ms): number =>
  Math.min(...samples.map((s) => pick(s) ?? Number.POSITIVE_INFINITY));
export const worst = (samples: Sample[], pick: (s: Sample) => number | undefined): number =>
  Math.max(...samples.map((s) => pick(s) ?? Number.NaN));
export const verdict = (ok: boolean) => (ok ? "ok" : "MISSED");

function rateCols(file: HistoryFile, ms: number): string {
  const r = (bytes: number) => `${(bytes / MiB / (ms / 1000)).toFixed(0).padStart(5)} MiB/s`;
  return `${(ms / 1000).toFixed(3).padStart(7)} s  gzip ${r(file.gzipSize)}  plain ${r(file.fileSize)}`;
}

export function report(
  t: ReportTarget,
  genMs: number,
  runs: number,
  results: Record<string, Sample[]>,
  cold: Partial<Record<StoreKind, Sample>>,
): string[] {
  const f = t.file;
  const lines: string[] = [];
  lines.push(
    `== ${t.sizeMiB} MiB hour ${t.chatType} ${t.msgTime}: 1 file, plain ${(f.fileSize / MiB).toFixed(1)} MiB, ` +
      `gzip ${(f.gzipSize / MiB).toFixed(1)} MiB (ratio ${(f.fileSize / f.gzipSize).toFixed(2)}); ` +
      `simulator generated + cached it in ${(genMs / 1000).toFixed(1)} s (first get_history); best of ${runs}`,
  );
  const checked = (results.local?.length ?? 0) + (results.s3?.length ?? 0);
  lines.push(
    `stored bytes checked after each of the ${checked} imvault runs: MD5 equals the simulator's GzipMD5 ${f.gzipMd5}`,
  );
  const inflate = best(results.inflate!);
  const md5 = best(results.md5!);
  const limit = Math.max(inflate, md5);
  const program = (x: Sample) => x.programMs;
  const programLimit = Math.max(best(results.inflate!, program), best(results.md5!, program));
  const pipe = best(results.pipeline!);
  for (const kind of ["local", "s3"] as const) {
    const s = results[kind];
    if (s === undefined || s.length === 0) continue;
    const name = kind === "local" ? "imvault archive, local store" : "imvault archive, S3 (fauxqs)";
    const rss = worst(s, (x) => x.maxRssMiB);
    lines.push(
      `${`${name}, end to end`.padEnd(46)}${rateCols(f, best(s))}  peak RSS ${rss.toFixed(0)} MiB (max of runs)`,
    );
    lines.push(
      `${"  of which download→verify→store→exit".padEnd(46)}${rateCols(
        f,
        best(s, (x) => x.transferMs),
      )}` + `  (start-up to get_history: ${(best(s, (x) => x.startupMs) / 1000).toFixed(3)} s)`,
    );
    const fastest = s.reduce((a, b) => (b.ms < a.ms ? b : a));
    const cpu = fastest.cpu!;
    lines.push(
      `${"  CPU in that run".padEnd(46)}imvault ${cpu.imvault.toFixed(2)} s (all threads), simulator ${cpu.simulator.toFixed(2)} s` +
        (cpu.fauxqs === undefined ? "" : `, fauxqs ${cpu.fauxqs.toFixed(2)} s`),
    );
    const c = cold[kind];
    if (c !== undefined) {
      lines.push(
        `${"  first run, cold compile cache".padEnd(46)}${rateCols(f, c.ms)}  peak RSS ${c.maxRssMiB!.toFixed(0)} MiB` +
          `  (start-up to get_history: ${((c.startupMs ?? Number.NaN) / 1000).toFixed(3)} s)`,
      );
    }
  }
  lines.push(`${"curl | tee >(md5sum) | gunzip | md5sum".padEnd(46)}${rateCols(f, pipe)}`);
  const asProgram = (samples: Sample[]) =>
    `  (as a program, spawn → exit: ${(best(samples, program) / 1000).toFixed(3)} s)`;
  lines.push(`${"node inflate only".padEnd(46)}${rateCols(f, inflate)}${asProgram(results.inflate!)}`);
  lines.push(`${"node md5 only (gzip + plain)".padEnd(46)}${rateCols(f, md5)}${asProgram(results.md5!)}`);
  lines.push(`${"two-core limit = max(inflate, md5)".padEnd(46)}${rateCols(f, limit)}`);
  lines.push(`${"  the same for a program, spawn → exit".padEnd(46)}${rateCols(f, programLimit)}`);
  lines.push(
    `${"(diagnostic) verifier alone, file → null".padEnd(46)}${rateCols(f, best(results.verify!))}` +
      `  (${(best(results.verify!) / limit).toFixed(2)}x the limit)`,
  );
  for (const kind of ["local", "s3"] as const) {
    const s = results[kind];
    if (s === undefined || s.length === 0) continue;
    const e2e = best(s);
    const transfer = best(s, (x) => x.transferMs);
    const rss = worst([...s, ...(cold[kind] ? [cold[kind]] : [])], (x) => x.maxRssMiB);
    const speedup = (ms: number) => `${(pipe / ms).toFixed(2)}x`;
    const over = (ms: number, bound: number) => `${(ms / bound).toFixed(3)}x`;
    const rssText = `peak RSS ${rss.toFixed(0)} MiB, cold run included (< 200 MB = ${RSS_LIMIT_MIB.toFixed(1)} MiB ${verdict(rss < RSS_LIMIT_MIB)})`;
    if (kind === "local") {
      lines.push(
        `local targets: throughput against the pipeline ${speedup(e2e)} e2e (>= 1.25x ${verdict(pipe / e2e >= 1.25)}), ` +
          `${speedup(transfer)} transfer (>= 1.25x ${verdict(pipe / transfer >= 1.25)}); ` +
          `transfer against the two-core limit ${over(transfer, limit)} (<= 1.5x ${verdict(transfer / limit <= 1.5)}); ${rssText}`,
      );
      lines.push(
        `local for information (start-up has no target): e2e ${over(e2e, programLimit)} the limit for a program, ` +
          `${over(e2e, limit)} the work-alone limit`,
      );
    } else {
      lines.push(
        `s3    for information (the emulator shares the two cores): against the pipeline ${speedup(e2e)} e2e, ` +
          `${speedup(transfer)} transfer; transfer ${over(transfer, limit)} the two-core limit, ` +
          `e2e ${over(e2e, programLimit)} the limit for a program; ${rssText}`,
      );
    }
  }
  return lines;
}
