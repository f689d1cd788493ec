/**
 * The pieces of an HTML transcript: a page that needs nothing outside its export folder (styles in
 * the page, media by relative links to the copied files, no script), readable on screen and on paper.
 */
import type { ExportMedia } from "../media.ts";
import { mediaKind } from "../media.ts";

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** A relative URL of an export path from a page one folder down (`conversations/…`). */
export function hrefFromSlice(path: string): string {
  return `../${path.split("/").map(encodeURIComponent).join("/")}`;
}

/** Both time zones of an instant: "2026-12-05 10:00:03 UTC · 2026-12-05 18:00:03 Beijing". */
export function bothZones(ms: number): string {
  const utc = new Date(ms).toISOString().replace("T", " ").slice(0, 19);
  const beijing = new Date(ms + 8 * 3_600_000).toISOString().replace("T", " ").slice(0, 19);
  return `${utc} UTC · ${beijing} Beijing`;
}

export const PAGE_STYLE = `
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI","PingFang SC","Noto Sans CJK SC",sans-serif;margin:0;background:#eef0f3;color:#1d2330}
header{background:#fff;border-bottom:1px solid #d6d9e0;padding:16px 24px}
header h1{font-size:20px;margin:0 0 4px}
header p{margin:2px 0;color:#4a5263}
main{max-width:860px;margin:0 auto;padding:16px 24px}
.msg{display:flex;flex-direction:column;align-items:flex-start;margin:10px 0;break-inside:avoid}
.msg.self{align-items:flex-end}
.meta{font-size:12px;color:#5b6475;margin:0 6px 2px}
.from{font-weight:600;color:#2b3345}
.bubble{background:#fff;border:1px solid #d6d9e0;border-radius:14px;padding:8px 12px;max-width:75%;overflow-wrap:anywhere}
.self .bubble{background:#dcf3e4;border-color:#b9dfc6}
.text{white-space:pre-wrap;margin:0}
.bubble img{display:block;max-width:100%;max-height:360px;margin:6px 0;border-radius:8px}
.bubble video{display:block;max-width:100%;max-height:360px;margin:6px 0}
.kind{color:#5b6475;font-style:italic}
.banned{display:inline-block;background:#b42318;color:#fff;font-size:11px;font-weight:700;border-radius:4px;padding:1px 6px;margin:4px 0}
.missing{display:block;color:#b42318;font-size:13px;margin:4px 0}
.file{display:block;margin:4px 0}
.variants{font-size:12px}
section.missing-list{background:#fff;border:1px solid #e5b4ae;border-radius:8px;padding:8px 16px;margin:24px 0}
section.missing-list li{overflow-wrap:anywhere;font-size:13px}
table{border-collapse:collapse;width:100%;background:#fff}
td,th{border:1px solid #d6d9e0;padding:6px 8px;text-align:left;font-size:14px}
@media print{body{background:#fff}header{border:0}.bubble{border-color:#999}.self .bubble{background:#f1f1f1}
video,audio{display:none}a[href]::after{content:" (" attr(href) ")";font-size:10px;color:#555}}
`;

export function pageHead(title: string, lines: readonly string[]): string {
  return (
    `<!DOCTYPE html>\n<html lang="und">\n<head>\n<meta charset="utf-8">\n` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">\n` +
    // Nothing may load from anywhere but the export's own folder; no script runs.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'">\n` +
    `<title>${escapeHtml(title)}</title>\n<style>${PAGE_STYLE}</style>\n</head>\n<body>\n<header>\n` +
    `<h1>${escapeHtml(title)}</h1>\n${lines.map((l) => `<p>${escapeHtml(l)}</p>`).join("\n")}\n</header>\n<main>\n`
  );
}

export const PAGE_TAIL = "</main>\n</body>\n</html>\n";

/** The HTML of a message's media: images and videos inline, other files as links, the rest named. */
export function mediaHtml(media: readonly ExportMedia[], paths: ReadonlyMap<string, string>): string {
  let html = "";
  const shownElems = new Set<number>();
  for (const m of media) {
    const path = paths.get(m.rawUrl);
    const banned = m.banned
      ? `<span class="banned" title="Tencent reported this file banned">BANNED</span>`
      : "";
    if (path === undefined) {
      html += `<span class="missing">Media ${escapeHtml(m.status)}: ${escapeHtml(m.rawUrl)}</span>`;
      continue;
    }
    const href = escapeHtml(hrefFromSlice(path));
    const kind = mediaKind(m);
    const name = escapeHtml(decodeSafe(path.split("/").at(-1) ?? path));
    // An image element holds the same picture in several sizes: the first is shown, the others linked.
    if (kind === "image" && !shownElems.has(m.elemIndex)) {
      shownElems.add(m.elemIndex);
      html += `${banned}<a href="${href}"><img src="${href}" alt="${name}" loading="lazy"></a>`;
    } else if (kind === "image") {
      html += `${banned}<a class="variants" href="${href}">${m.type === "thumb" ? "thumbnail" : "other size"}: ${name}</a> `;
    } else if (kind === "video") {
      html += `${banned}<video controls preload="metadata" src="${href}"></video><a class="file" href="${href}">${name}</a>`;
    } else if (kind === "audio") {
      html += `${banned}<audio controls preload="none" src="${href}"></audio><a class="file" href="${href}">${name}</a>`;
    } else {
      html += `${banned}<a class="file" href="${href}">📎 ${name}</a>`;
    }
  }
  return html;
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
