import { type ExportMedia, mediaExportPath } from "../media.ts";
import type { WriterContext } from "./types.ts";

/**
 * Copies a captured medium into the export at its archive key (`media/{host}/{path}`), once however
 * many messages hold it; answers that path, or undefined when there are no bytes to copy.
 */
export async function copyMedia(ctx: WriterContext, media: ExportMedia): Promise<string | undefined> {
  if (media.status !== "captured") return undefined;
  const path = mediaExportPath(media);
  if (ctx.dir.has(path)) return path;
  const sink = await ctx.dir.open(path);
  for await (const chunk of await ctx.media.open(media)) {
    await sink.write(chunk as Buffer);
    ctx.onBytes((chunk as Buffer).length);
  }
  await sink.close();
  return path;
}
