/**
 * `jsonl`: each slice's messages exactly as Tencent sent them (the table's `raw`, the message's JSON
 * text as it stands in the history file), one a line, and their media files beside them (copied as
 * the messages were resolved: MediaCopier).
 */
import type { FileSink } from "../output.ts";
import { SLICES_DIR, type Slice, type SliceMessage, type SliceWriter, type WriterContext } from "./types.ts";

export function jsonlWriter(ctx: WriterContext): SliceWriter {
  let sink: FileSink | undefined;
  let path = "";
  return {
    async begin(slice: Slice) {
      path = `${SLICES_DIR}/${slice.name}.jsonl`;
      sink = await ctx.dir.open(path);
    },
    async message({ row }: SliceMessage) {
      await sink!.write(`${row.raw}\n`);
    },
    async end() {
      await sink!.close();
      return path;
    },
    async finish() {},
  };
}
