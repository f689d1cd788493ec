import type { ArchiveStore } from "@imvault/im-core";
import {
  type AnyJob,
  type ExportJob,
  exportObjectKey,
  parseJob,
  type QueueJob,
  readJsonObject,
  readManifest,
  readMediaManifest,
  type StoredExportStatus,
} from "@imvault/im-core";
import type { SQSRecord } from "aws-lambda";
import { formatBytes } from "../terminal.ts";

/** How one job of a batch ended, told from the only state there is: the hour's manifests. */
export interface JobLine {
  job: AnyJob | undefined;
  outcome:
    | "archived"
    | "empty"
    | "expired"
    | "pending"
    | "media"
    | "media pending"
    | "export"
    | "failed"
    | "dropped";
  text: string;
}

/**
 * One line per job of a handled batch. The archive handler answers only which records failed; the
 * rest either committed a manifest (archived / empty / expired), or left the hour pending (Tencent has
 * not produced it yet: the next scheduler run enqueues it again), or was a malformed message (dropped).
 * A media job that did not fail committed the hour's media manifest (media), or found the hour not
 * archived (media pending: the scheduler plans it again once it is).
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
    let job: AnyJob | undefined;
    try {
      job = parseJob(record.body);
    } catch {
      job = undefined;
    }
    const hour = job === undefined || job.kind === "export" ? "" : `${job.chatType.padEnd(5)} ${job.msgTime}`;
    const name =
      job === undefined
        ? `message ${record.messageId}`
        : job.kind === "export"
          ? `export ${job.id}`
          : job.kind === "media"
            ? `${hour} media`
            : hour;
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
    lines.push(
      job.kind === "export"
        ? await exportLine(store, job)
        : job.kind === "media"
          ? await mediaLine(store, job, hour)
          : await historyLine(store, job, name),
    );
  }
  return lines;
}

async function historyLine(store: ArchiveStore, job: QueueJob, name: string): Promise<JobLine> {
  const manifest = await readManifest(store, job.chatType, job.msgTime).catch(() => undefined);
  if (manifest === undefined) {
    return {
      job,
      outcome: "pending",
      text: `pending   ${name}  (not produced by Tencent yet; retried by the scheduler)`,
    };
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
  return { job, outcome: manifest.status, text: `${manifest.status.padEnd(9)} ${name}${detail}` };
}

async function mediaLine(store: ArchiveStore, job: QueueJob, hour: string): Promise<JobLine> {
  const manifest = await readMediaManifest(store, job.chatType, job.msgTime).catch(() => undefined);
  if (manifest === undefined) {
    return {
      job,
      outcome: "media pending",
      text: `pending   ${hour} media  (the hour is not archived yet; planned again once it is)`,
    };
  }
  const counts = { captured: 0, missing: 0, refused: 0 };
  const sizes = new Map<string, number>();
  for (const item of manifest.items) {
    counts[item.status]++;
    if (item.status === "captured") sizes.set(item.key, item.size);
  }
  const bytes = [...sizes.values()].reduce((a, b) => a + b, 0);
  return {
    job,
    outcome: "media",
    text: `media     ${hour}  ${counts.captured} captured, ${counts.missing} missing, ${counts.refused} refused, ${formatBytes(bytes)}`,
  };
}

async function exportLine(store: ArchiveStore, job: ExportJob): Promise<JobLine> {
  const status = await readJsonObject<StoredExportStatus>(
    store,
    exportObjectKey(job.id, "status.json"),
  ).catch(() => undefined);
  const detail =
    status?.state === "succeeded"
      ? `export.zip, ${formatBytes(status.size ?? 0)}`
      : `${status?.state ?? "no status"}${status?.error === undefined ? "" : `: ${status.error}`}`;
  return { job, outcome: "export", text: `export    ${job.id}  ${detail}` };
}
