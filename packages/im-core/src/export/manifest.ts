/**
 * export-manifest.json: what was asked, by whom and when, every file of the export with its size and
 * SHA-256, and the archive's digest-chain head the export was made from, so that a reviewer can show
 * the export is what the archive held. verifyExport checks a directory against it.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import * as v from "valibot";
import { ValidationError } from "../errors.ts";
import { CHAT_TYPES } from "../im/types.ts";
import { ExportRequestSchema } from "./request.ts";

export const EXPORT_MANIFEST = "export-manifest.json";

const sha256 = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/));
const count = v.pipe(v.number(), v.integer(), v.minValue(0));

export const ExportFileSchema = v.object({ path: v.string(), size: count, sha256 });

export const ExportManifestSchema = v.object({
  version: v.literal(1),
  request: ExportRequestSchema,
  requestedBy: v.string(),
  createdAt: v.pipe(v.string(), v.isoTimestamp()),
  generator: v.string(),
  /** The newest digest of the archive's chain when the export began; null before the first seal. */
  digestChainHead: v.nullable(v.object({ key: v.string(), seq: count, sha256, digestEndTime: v.string() })),
  /** Set when the export holds no message (an unknown user, an empty window): why. */
  note: v.optional(v.string()),
  messages: count,
  slices: v.array(
    v.object({
      file: v.string(),
      dt: v.string(),
      chatType: v.picklist(CHAT_TYPES),
      conversation: v.nullable(v.string()),
      part: count,
      parts: count,
      messages: count,
    }),
  ),
  media: v.object({
    copied: count,
    bytes: count,
    banned: v.array(v.object({ rawUrl: v.string(), key: v.string() })),
    /** Media of exported messages that the export does not hold, and why. */
    missing: v.array(v.object({ rawUrl: v.string(), status: v.string(), reason: v.optional(v.string()) })),
  }),
  files: v.array(ExportFileSchema),
});
export type ExportManifest = v.InferOutput<typeof ExportManifestSchema>;

export interface ExportVerification {
  manifest: ExportManifest | undefined;
  checked: number;
  /** Empty when every file is there, unchanged, and nothing else is. */
  problems: string[];
}

/** Checks `dir` against its export-manifest.json: every file present with its size and SHA-256, no other. */
export async function verifyExport(dir: string): Promise<ExportVerification> {
  let text: string;
  try {
    text = await readFile(join(dir, EXPORT_MANIFEST), "utf8");
  } catch {
    throw new ValidationError(`${dir} holds no ${EXPORT_MANIFEST}: not an export`);
  }
  let parsed: v.SafeParseResult<typeof ExportManifestSchema>;
  try {
    parsed = v.safeParse(ExportManifestSchema, JSON.parse(text));
  } catch {
    return { manifest: undefined, checked: 0, problems: [`${EXPORT_MANIFEST} is not JSON`] };
  }
  if (!parsed.success) {
    const issues = parsed.issues.slice(0, 5).map((i) => `${v.getDotPath(i) ?? "(root)"}: ${i.message}`);
    return {
      manifest: undefined,
      checked: 0,
      problems: [`${EXPORT_MANIFEST} is malformed: ${issues.join("; ")}`],
    };
  }
  const manifest = parsed.output;
  const problems: string[] = [];
  const listed = new Map(manifest.files.map((f) => [f.path, f]));
  const present = new Set<string>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = relative(dir, join(entry.parentPath, entry.name)).split(sep).join("/");
    if (path === EXPORT_MANIFEST) continue;
    present.add(path);
    if (!listed.has(path)) problems.push(`${path}: not in the manifest (added)`);
  }
  let checked = 0;
  for (const file of manifest.files) {
    if (!present.has(file.path)) {
      problems.push(`${file.path}: missing`);
      continue;
    }
    const { size, sha256: got } = await hashFile(join(dir, ...file.path.split("/")));
    checked++;
    if (size !== file.size) problems.push(`${file.path}: ${size} bytes, the manifest says ${file.size}`);
    else if (got !== file.sha256)
      problems.push(`${file.path}: SHA-256 ${got}, the manifest says ${file.sha256}`);
  }
  return { manifest, checked, problems };
}

async function hashFile(path: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: hash.digest("hex") };
}
