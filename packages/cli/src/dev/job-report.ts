import { readManifest } from "@imvault/im-core/archive/manifest.ts";
import { type HourJob, parseJob } from "@imvault/im-core/queue/job.ts";
import type { ArchiveStore } from "@imvault/im-core/store/port.ts";
import type { SQSRecord } from "aws-lambda";
import { formatBytes } from "../terminal.ts";

/** How one job of a batch ended, told from the only state there is: the hour's manifest. */
export interface JobLine {
  job: HourJob | undefined;
  outcome: "archived" | "empty" | "expired" | "pending" | "failed" | "dropped";
  text: string;
}

/**
 * One line per job of a handled batch. The archive handler answers only which records failed; the
 * rest either committed a manifest (archived / empty / expired), or left the hour pending (Tencent has
 * not produced it yet: the next scheduler run enqueues it again), or was a malformed message (dropped).
 */
export async function describeBatch(
  store: ArchiveStore,
  records: readonly SQSRecord[],
  failed: readonly SQSRecord[],
  maxReceiveCount: number,
): Promise<JobLine[]> {
  const failedIds = new Set(failed.map((r) => r.messageId));
  const lines: JobLine[] = [];
  for (const record of records) {
    let job: HourJob | undefined;
    try {
      job = parseJob(record.body);
    } catch {
      job = undefined;
    }
    const name =
      job === undefined ? `message ${record.messageId}` : `${job.chatType.padEnd(5)} ${job.msgTime}`;
    if (failedIds.has(record.messageId)) {
      const receives = Number(record.attributes.ApproximateReceiveCount || "1");
      const next =
        receives >= maxReceiveCount
          ? "moves to the dead-letter queue"
          : "retried after the visibility timeout";
      lines.push({
        job,
        outcome: "failed",
        text: `failed    ${name}  (receive ${receives} of ${maxReceiveCount}; ${next})`,
      });
      continue;
    }
    if (job === undefined) {
      lines.push({ job, outcome: "dropped", text: `dropped   ${name}  (malformed job message)` });
      continue;
    }
    const manifest = await readManifest(store, job.chatType, job.msgTime).catch(() => undefined);
    if (manifest === undefined) {
      lines.push({
        job,
        outcome: "pending",
        text: `pending   ${name}  (not produced by Tencent yet; retried by the scheduler)`,
      });
      continue;
    }
    const files = manifest.files.length;
    const bytes = manifest.files.reduce((s, f) => s + f.gzipSize, 0);
    const messages = manifest.files.reduce((s, f) => s + f.messageCount, 0);
    const detail =
      manifest.status === "archived"
        ? `  ${files} file${files === 1 ? "" : "s"}, ${formatBytes(bytes)}, ${messages} messages`
        : manifest.status === "expired"
          ? "  (Tencent no longer has this hour: its history is lost)"
          : "  (no messages in this hour)";
    lines.push({ job, outcome: manifest.status, text: `${manifest.status.padEnd(9)} ${name}${detail}` });
  }
  return lines;
}
