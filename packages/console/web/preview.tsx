import { useState } from "preact/hooks";

const IMAGE = /\.(jpe?g|png|gif|webp|bmp|avif)$/i;
const VIDEO = /\.(mp4|mov|m4v|webm)$/i;
const AUDIO = /\.(m4a|mp3|aac|wav|ogg|oga|opus|amr|silk)$/i;

export type MediaKind = "image" | "video" | "audio" | "file";

/** What kind of media a URL (RawURL or PreSigURL) names, by its path's extension or a content type. */
export function mediaKind(url: string, contentType?: string): MediaKind {
  if (contentType?.startsWith("image/")) return "image";
  if (contentType?.startsWith("video/")) return "video";
  if (contentType?.startsWith("audio/")) return "audio";
  let path = url;
  try {
    path = new URL(url).pathname;
  } catch {
    // Not absolute: read it as a path.
  }
  if (IMAGE.test(path)) return "image";
  if (VIDEO.test(path)) return "video";
  if (AUDIO.test(path)) return "audio";
  return "file";
}

/**
 * A short-lived URL shown inline: images and video (and audio) in the page, anything else as a link.
 * Referrers are never sent (the page's policy), and a file that does not display says so.
 */
export function Preview({ url, name, kind }: { url: string; name: string; kind: MediaKind }) {
  const [broken, setBroken] = useState(false);
  const link = (
    <a href={url} target="_blank" rel="noopener noreferrer" class="open-link">
      Open {kind === "file" ? "file" : kind} in a new tab
    </a>
  );
  if (kind === "file" || broken) {
    return (
      <div class="preview preview-file">
        {broken ? (
          <p class="muted">The browser cannot display this {kind}; it may be another format.</p>
        ) : null}
        {link}
      </div>
    );
  }
  return (
    <figure class="preview">
      {kind === "image" ? (
        <img
          src={url}
          alt={`Preview of ${name}`}
          loading="lazy"
          decoding="async"
          onError={() => setBroken(true)}
        />
      ) : kind === "video" ? (
        // biome-ignore lint/a11y/useMediaCaption: chat media carry no captions to offer
        <video src={url} controls preload="metadata" onError={() => setBroken(true)} />
      ) : (
        // biome-ignore lint/a11y/useMediaCaption: chat media carry no captions to offer
        <audio src={url} controls preload="none" onError={() => setBroken(true)} />
      )}
      <figcaption>{link}</figcaption>
    </figure>
  );
}

/** The last part of a URL's path: a media file's name. */
export function fileName(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname.split("/").at(-1) ?? url);
  } catch {
    return url.split("/").at(-1) ?? url;
  }
}
