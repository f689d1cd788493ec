/**
 * `html`: one self-contained transcript page per slice (bubbles, the sender's side on the right when
 * the export is of a user, both UTC and Beijing time), media copied beside them and shown from there,
 * banned files marked, media the archive does not have listed at the end; and an index page.
 */
import { mediaExportPath } from "../media.ts";
import type { FileSink } from "../output.ts";
import { exportSubject } from "../request.ts";
import { bothZones, escapeHtml, mediaHtml, PAGE_TAIL, pageHead } from "./html-render.ts";
import { SLICES_DIR, type Slice, type SliceMessage, type SliceWriter, type WriterContext } from "./types.ts";

const MEDIA_TYPES = new Set(["TIMImageElem", "TIMSoundElem", "TIMFileElem", "TIMVideoFileElem"]);

export function sliceTitle(slice: Slice): string {
  const what = slice.chatType === "Group" ? "Group" : "Conversation";
  const part = slice.parts > 1 ? ` (part ${slice.part} of ${slice.parts})` : "";
  return `${what} ${slice.conversation ?? "(none)"} — ${slice.dt}${part}`;
}

export function htmlWriter(ctx: WriterContext): SliceWriter {
  const self = ctx.request.user;
  let sink: FileSink | undefined;
  let path = "";
  let missing: string[] = [];
  return {
    async begin(slice: Slice) {
      path = `${SLICES_DIR}/${slice.name}.html`;
      missing = [];
      sink = await ctx.dir.open(path);
      await sink.write(
        pageHead(sliceTitle(slice), [
          `Tencent Cloud IM, ${slice.chatType}; export of ${exportSubject(ctx.request)}.`,
          `Day ${slice.dt}, Beijing time (UTC+8). Times are shown in UTC and in Beijing time.`,
        ]),
      );
    },
    async message({ row, at, media }: SliceMessage) {
      const paths = new Map<string, string>();
      for (const m of media) {
        if (m.status === "captured") paths.set(m.rawUrl, mediaExportPath(m));
        else missing.push(`${m.status}${m.reason === undefined ? "" : ` (${m.reason})`}: ${m.rawUrl}`);
      }
      const from = row.from_account ?? "(unknown sender)";
      const side = self !== undefined && row.from_account === self ? "msg self" : "msg";
      const text = row.text === null ? "" : `<p class="text">${escapeHtml(row.text)}</p>`;
      const others = row.msg_types.filter((t) => t !== "TIMTextElem" && !MEDIA_TYPES.has(t));
      const kinds = others.length === 0 ? "" : `<span class="kind">[${escapeHtml(others.join(", "))}]</span>`;
      await sink!.write(
        `<div class="${side}"><div class="meta"><span class="from">${escapeHtml(from)}</span> ` +
          `<time datetime="${new Date(at).toISOString()}">${bothZones(at)}</time></div>` +
          `<div class="bubble">${text}${mediaHtml(media, paths)}${kinds}</div></div>\n`,
      );
    },
    async end() {
      if (missing.length > 0) {
        await sink!.write(
          `<section class="missing-list"><h2>Media not in the archive (${missing.length})</h2><ul>\n` +
            missing.map((m) => `<li>${escapeHtml(m)}</li>`).join("\n") +
            "\n</ul></section>\n",
        );
      }
      await sink!.write(PAGE_TAIL);
      await sink!.close();
      return path;
    },
    async finish(slices) {
      const index = await ctx.dir.open("index.html");
      await index.write(
        pageHead(`Export of ${exportSubject(ctx.request)}`, [
          `${slices.length} transcript(s), one per conversation and Beijing day.`,
          "export-manifest.json lists every file with its SHA-256.",
        ]),
      );
      await index.write("<table><tr><th>Day (Beijing)</th><th>Conversation</th><th>Messages</th></tr>\n");
      for (const { slice, file, messages } of slices) {
        const href = file.split("/").map(encodeURIComponent).join("/");
        await index.write(
          `<tr><td>${escapeHtml(slice.dt)}</td><td><a href="${escapeHtml(href)}">${escapeHtml(sliceTitle(slice))}</a></td><td>${messages}</td></tr>\n`,
        );
      }
      await index.write(`</table>\n${PAGE_TAIL}`);
      await index.close();
    },
  };
}
