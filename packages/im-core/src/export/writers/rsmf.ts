/**
 * `rsmf`: one RSMF 2.0 file per slice: an RFC 5322 message with X-RSMF-* headers, a plain-text
 * transcript (what review tools index) and one base64 attachment `rsmf.zip` holding
 * the slice's media files and rsmf_manifest.json (last). The zip (zip.ts) is written straight into
 * the base64 of the file being written; media are read a few ahead of the one being added.
 */
import type { Readable } from "node:stream";
import { NotFoundError } from "../../errors.ts";
import { EXPORT_LIMITS } from "../../schemas/limits.ts";
import { ABSENT } from "../media.ts";
import type { FileSink } from "../output.ts";
import { sliceTitle } from "./html.ts";
import { bothZones } from "./html-render.ts";
import {
  attachmentHead,
  Base64LineWriter,
  closeBoundary,
  headerText,
  messageHead,
  newBoundary,
  textPart,
} from "./mime.ts";
import { RSMF_VERSION, RsmfManifestBuilder } from "./rsmf-manifest.ts";
import { SLICES_DIR, type Slice, type SliceMessage, type SliceWriter, type WriterContext } from "./types.ts";
import { ZipWriter } from "./zip.ts";

export function rsmfWriter(ctx: WriterContext): SliceWriter {
  let slice: Slice | undefined;
  let builder: RsmfManifestBuilder | undefined;
  let transcript: string[] = [];
  return {
    async begin(next: Slice) {
      slice = next;
      builder = new RsmfManifestBuilder(next, ctx.request.user);
      transcript = [];
    },
    async message(message: SliceMessage) {
      builder!.add(message);
      const { row, at } = message;
      transcript.push(
        `${row.from_account ?? "(unknown sender)"} — ${bothZones(at)}\r\n${row.text ?? `[${row.msg_types.join(", ")}]`}\r\n`,
      );
    },
    async end() {
      const path = `${SLICES_DIR}/${slice!.name}.rsmf`;
      const sink = await ctx.dir.open(path);
      await writeRsmf(ctx, sink, slice!, builder!, transcript);
      await sink.close();
      return path;
    },
    async finish() {},
  };
}

async function writeRsmf(
  ctx: WriterContext,
  sink: FileSink,
  slice: Slice,
  builder: RsmfManifestBuilder,
  transcript: string[],
): Promise<void> {
  const span = builder.span;
  const boundary = newBoundary();
  const headers: [string, string][] = [
    ["X-RSMF-Version", RSMF_VERSION],
    ["X-RSMF-Generator", headerText(ctx.generator)],
    ["X-RSMF-EventCount", String(span.count)],
  ];
  if (span.begin !== undefined && span.end !== undefined) {
    headers.push(["X-RSMF-BeginDate", span.begin], ["X-RSMF-EndDate", span.end]);
  }
  headers.push(["Subject", headerText(sliceTitle(slice))]);
  await sink.write(messageHead(headers, boundary));
  await sink.write(textPart(boundary, transcript.join("\r\n")));
  await sink.write(attachmentHead(boundary, "rsmf.zip"));

  const base64 = new Base64LineWriter((lines) => sink.write(lines));
  // DOS times have no zone: the slice's Beijing day, at 00:00.
  const zip = new ZipWriter((bytes) => base64.write(bytes), { modified: new Date(`${slice.dt}T00:00:00Z`) });
  // Each medium is read a few entries ahead of the zip, so that reading one overlaps adding the one
  // before; the zip takes them strictly in order. Reading is also how the store's having the bytes
  // is learned (no look-up before): a medium it no longer has is marked absent, left out of the zip
  // and listed so in rsmf_manifest.json, which is written last.
  const attachments = [...builder.attachments];
  const loading = new Map<number, Promise<Buffer | Readable>>();
  const load = (i: number) => {
    if (i >= attachments.length || loading.has(i)) return;
    const body = ctx.media.load(attachments[i]!.media, EXPORT_LIMITS.rsmfWholeMediaBytes);
    body.catch(() => {});
    loading.set(i, body);
  };
  try {
    for (const [i, { name, media }] of attachments.entries()) {
      for (let j = i; j <= i + EXPORT_LIMITS.rsmfPrefetch; j++) load(j);
      let body: Buffer | Readable;
      try {
        body = await loading.get(i)!;
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error;
        builder.markAbsent(media.key!, ABSENT);
        continue;
      } finally {
        loading.delete(i);
      }
      if (Buffer.isBuffer(body)) {
        await zip.addBuffer(name, body);
        ctx.onBytes(body.length);
      } else {
        body.on("data", (chunk: Buffer) => ctx.onBytes(chunk.length));
        await zip.addStream(name, media.size!, body);
      }
    }
  } finally {
    // Streams read ahead of a zip that failed are closed.
    for (const body of loading.values())
      body.then(
        (b) => {
          if (!Buffer.isBuffer(b)) b.destroy();
        },
        () => {},
      );
  }
  await zip.addBuffer(
    "rsmf_manifest.json",
    Buffer.from(JSON.stringify(builder.manifest(), null, 1), "utf8"),
    {
      deflate: true,
    },
  );
  await zip.end();
  await base64.end();
  await sink.write(closeBoundary(boundary));
}
