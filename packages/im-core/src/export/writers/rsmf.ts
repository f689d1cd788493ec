/**
 * `rsmf`: one RSMF 2.0 file per slice: an RFC 5322 message with X-RSMF-* headers, a plain-text
 * transcript (what review tools index) and one base64 attachment `rsmf.zip` holding
 * rsmf_manifest.json and the slice's media files. The zip is streamed (yazl) straight into the base64
 * of the file being written; each medium is opened only when the zip reaches it.
 */
import type { Readable } from "node:stream";
import { ZipFile } from "yazl";
import type { FileSink } from "../output.ts";
import { sliceTitle } from "./html.ts";
import { bothZones } from "./html-render.ts";
import {
  attachmentHead,
  base64Stream,
  closeBoundary,
  headerText,
  messageHead,
  newBoundary,
  textPart,
} from "./mime.ts";
import { RSMF_VERSION, RsmfManifestBuilder } from "./rsmf-manifest.ts";
import { SLICES_DIR, type Slice, type SliceMessage, type SliceWriter, type WriterContext } from "./types.ts";

/** Media opened ahead of the one being zipped. */
const PREFETCH = 4;

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

  const zip = new ZipFile();
  const mtime = new Date(`${slice.dt}T00:00:00+08:00`);
  zip.addBuffer(Buffer.from(JSON.stringify(builder.manifest(), null, 1), "utf8"), "rsmf_manifest.json", {
    mtime,
  });
  // Each medium is opened a few entries ahead of the zip, so that opening a file overlaps the copy of
  // the one before; the zip reads them strictly in order.
  const attachments = builder.attachments;
  const opened = new Map<number, Promise<Readable>>();
  const opening = (i: number) => {
    if (i >= attachments.length || opened.has(i)) return;
    const stream = ctx.media.open(attachments[i]!.media);
    stream.catch(() => {});
    opened.set(i, stream);
  };
  attachments.forEach(({ name, media }, i) => {
    // Media are compressed already (images, video, audio): stored as they are, faster and no larger.
    zip.addReadStreamLazy(name, { compress: false, mtime, size: media.size! }, (cb) => {
      for (let j = i; j <= i + PREFETCH; j++) opening(j);
      const next = opened.get(i)!;
      opened.delete(i);
      next.then(
        (stream) => {
          stream.on("data", (chunk: Buffer) => ctx.onBytes(chunk.length));
          // yazl does not listen for a read stream's errors: a medium that fails its check ends the zip.
          stream.on("error", (error) => (zip as unknown as NodeJS.EventEmitter).emit("error", error));
          cb(null, stream);
        },
        (error: unknown) => cb(error, undefined as unknown as NodeJS.ReadableStream),
      );
    });
  });
  zip.end();
  let failed: (error: unknown) => void = () => {};
  const zipFailed = new Promise<never>((_, reject) => {
    failed = reject;
  });
  zipFailed.catch(() => {});
  (zip as unknown as NodeJS.EventEmitter).on("error", (error) => failed(error));
  const encode = (async () => {
    for await (const lines of base64Stream(zip.outputStream as AsyncIterable<Buffer>))
      await sink.write(lines);
  })();
  encode.catch(() => {});
  try {
    await Promise.race([encode, zipFailed]);
  } finally {
    // Streams opened ahead of a zip that failed are closed.
    for (const stream of opened.values())
      stream.then(
        (s) => s.destroy(),
        () => {},
      );
  }
  await sink.write(closeBoundary(boundary));
}
