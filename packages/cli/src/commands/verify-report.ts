import type { EvidenceReport, ObjectCheck, VerificationRecord } from "@imvault/im-core";
import { formatBytes } from "../terminal.ts";

const LABEL: Record<ObjectCheck["kind"], string> = {
  object: "Object     ",
  "raw file": "Raw file   ",
  "media file": "Media file ",
};

/** The chain's summary, as CloudTrail prints it ("22/23 digest files valid, 1/23 digest files INVALID"). */
export function chainSummary(report: EvidenceReport): string[] {
  const total = report.digests.length;
  const valid = report.digests.filter((d) => d.valid).length;
  const sealed = report.objects.filter((o) => o.status !== "pending" && o.status !== "unsealed");
  const objectsValid = sealed.filter((o) => o.status === "valid").length;
  const count = (status: ObjectCheck["status"]) => report.objects.filter((o) => o.status === status).length;
  const digests =
    valid === total
      ? `${valid}/${total} digest files valid`
      : `${valid}/${total} digest files valid, ${total - valid}/${total} digest files INVALID`;
  const objects = `${objectsValid}/${sealed.length} sealed objects valid (${count("modified")} modified, ${count("missing")} missing, ${count("moved")} moved)`;
  const pending = count("pending");
  const unsealed = count("unsealed");
  return [
    digests,
    objects,
    ...(pending + unsealed > 0
      ? [
          `${pending} committed after the head digest (not sealed yet), ${unsealed} that no digest seals though it should`,
        ]
      : []),
  ];
}

/** Every line `imvault verify` prints: the digests, the objects, the summaries, then today's file line. */
export function renderEvidence(
  report: EvidenceReport,
  options: { verbose: boolean; keyGiven: boolean },
): string[] {
  const lines: string[] = [];
  if (!report.chained) {
    lines.push(
      "no digest yet: nothing seals the archive (`imvault archive` on a DATA_DIR, or the scheduler, seals one)",
    );
  } else {
    lines.push(
      report.head === undefined
        ? "chain: the head digest cannot be read"
        : `chain: head ${report.head.key} (number ${report.head.seq}, ends ${report.head.digestEndTime})`,
    );
    for (const d of report.digests) {
      if (d.valid && !options.verbose) continue;
      lines.push(`Digest file ${d.key}  ${d.valid ? "valid" : `INVALID: ${d.problems.join("; ")}`}`);
    }
    for (const o of report.objects) {
      if (o.status === "valid" && !options.verbose) continue;
      const verdict =
        o.status === "valid" ? "valid" : o.status === "pending" ? "not sealed yet" : `INVALID: ${o.status}`;
      lines.push(`${LABEL[o.kind]}${o.key}  ${verdict}${o.detail === undefined ? "" : ` (${o.detail})`}`);
    }
    for (const p of report.problems) lines.push(`INVALID: ${p}`);
    lines.push("Results:", ...chainSummary(report));
  }
  const files = report.files;
  for (const p of files.problems) lines.push(`${p.problem}: ${p.key} (${p.detail})`);
  const sealed = files.sealedFiles > 0 ? ` (${files.sealedFiles} against their digest's SHA-256)` : "";
  const summary = `${files.manifests} manifest(s), ${files.files} file(s), ${formatBytes(files.bytes)} re-hashed${sealed}`;
  if (files.problems.length === 0) lines.push(`ok: ${summary}; every file matches its manifest`);
  else lines.push(`FAILED: ${summary}; ${files.problems.length} problem(s)`);
  if (report.chained && !report.ok && files.problems.length === 0)
    lines.push("FAILED: the chain of digests does not check out");
  return lines;
}

/** What is kept of a verification for `status` and for the next one. */
export function verificationRecord(report: EvidenceReport, at: Date): VerificationRecord {
  const sealed = report.objects.filter((o) => o.status !== "pending" && o.status !== "unsealed");
  return {
    version: 1,
    verifiedAt: at.toISOString(),
    ok: report.ok,
    head: report.head ?? null,
    digests: { valid: report.digests.filter((d) => d.valid).length, total: report.digests.length },
    objects: { valid: sealed.filter((o) => o.status === "valid").length, total: sealed.length },
    summary: chainSummary(report).join("; "),
  };
}
