/**
 * `rsmf`: one RSMF 2.0 file per slice: an RFC 5322 message with X-RSMF-* headers, a plain-text
 * transcript (what review tools index) and one base64 attachment `rsmf.zip` holding
 * rsmf_manifest.json and the slice's media files. The zip (zip.ts) is written straight into the
 * base64 of the file being written; media are read a few ahead of the one being added.
 */
import type { Readable } from "node:stream";
import { EXPORT_LIMITS } from "../../schemas/limits.ts";
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
  const events = builder.events;
  const boundary = newBoundary();
  const headers: [string, string][] = [
    ["X-RSMF-Version", RSMF_VERSION],
    ["X-RSMF-Generator", headerText(ctx.generator)],
    ["X-RSMF-EventCount", String(events.length)],
  ];
  if (events.length > 0) {
    headers.push(["X-RSMF-BeginDate", events[0]!.timestamp], ["X-RSMF-EndDate", events.at(-1)!.timestamp]);
  }
  headers.push(["Subject", headerText(sliceTitle(slice))]);
  await sink.write(messageHead(headers, boundary));
  await sink.write(textPart(boundary, transcript.join("\r\n")));
  await sink.write(attachmentHead(boundary, "rsmf.zip"));

  const base64 = new Base64LineWriter((lines) => sink.write(lines));
  // DOS times have no zone: the slice's Beijing day, at 00:00.
  const zip = new ZipWriter((bytes) => base64.write(bytes), { modified: new Date(`${slice.dt}T00:00:00Z`) });
  await zip.addBuffer("rsmf_manifest.json", Buffer.from(JSON.stringify(builder.manifest(), null, 1), "utf8"));
  // Each medium is read a few entries ahead of the zip, so that reading one overlaps adding the one
  // before; the zip takes them strictly in order.
  const attachments = builder.attachments;
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
      const body = await loading.get(i)!;
      loading.delete(i);
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
  await zip.end();
  await base64.end();
  await sink.write(closeBoundary(boundary));
}
