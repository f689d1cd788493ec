import { useEffect, useRef, useState } from "preact/hooks";
import { type MediaLookup, mediaLookupPath } from "../src/model/answers.ts";
import { formatBytes } from "../src/model/time.ts";
import { ApiError } from "./api.ts";
import { useConsole } from "./context.ts";
import { fileName, mediaKind, Preview } from "./preview.tsx";
import { Countdown, ErrorView } from "./ui.tsx";

/**
 * Lookups of archived copies run a few at a time: an hour or a conversation may hold dozens of media,
 * and the API is throttled (each lookup is also one audit line, so none is made for media not shown).
 */
const MAX_LOOKUPS = 3;
let running = 0;
const queue: (() => void)[] = [];

async function limited<T>(task: () => Promise<T>): Promise<T> {
  if (running >= MAX_LOOKUPS) await new Promise<void>((resolve) => queue.push(resolve));
  running++;
  try {
    return await task();
  } finally {
    running--;
    queue.shift()?.();
  }
}

type Lookup =
  | { state: "waiting" }
  | { state: "loading" }
  | { state: "done"; media: MediaLookup }
  | { state: "error"; error: unknown };

/**
 * The archived copy of one media URL, previewed inline (images, video, audio) or linked, through the
 * short-lived URL `GET /v1/media?rawUrl=` answers (an audited lookup), made once the item is on screen.
 */
export function ArchivedMedia({ rawUrl, contentType }: { rawUrl: string; contentType?: string | undefined }) {
  const { api } = useConsole();
  const box = useRef<HTMLDivElement>(null);
  const [lookup, setLookup] = useState<Lookup>({ state: "waiting" });
  const [visible, setVisible] = useState(false);
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    const el = box.current;
    if (el === null) return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) {
          setVisible(true);
          observer.disconnect();
        }
      },
      { rootMargin: "200px" },
    );
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    if (!visible) return;
    const controller = new AbortController();
    setLookup({ state: "loading" });
    limited(() => api.get<MediaLookup>(mediaLookupPath(rawUrl), controller.signal)).then(
      (media) => {
        if (!controller.signal.aborted) setLookup({ state: "done", media });
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setLookup({ state: "error", error });
      },
    );
    return () => controller.abort();
  }, [api, rawUrl, visible, generation]);

  const name = fileName(rawUrl);
  return (
    <div class="archived-media" ref={box} data-state={lookup.state}>
      {lookup.state === "waiting" ? <p class="muted small">Preview loads when shown.</p> : null}
      {lookup.state === "loading" ? (
        <p class="loading muted" role="status">
          <span class="spinner" aria-hidden="true" /> Loading the archived copy…
        </p>
      ) : null}
      {lookup.state === "error" ? (
        lookup.error instanceof ApiError && lookup.error.status === 404 ? (
          <p class="muted">No archived copy (not captured, or missing at Tencent).</p>
        ) : (
          <ErrorView error={lookup.error} retry={() => setGeneration((g) => g + 1)} />
        )
      ) : null}
      {lookup.state === "done" ? (
        <>
          <Preview
            url={lookup.media.url}
            name={name}
            kind={mediaKind(rawUrl, lookup.media.contentType ?? contentType)}
          />
          <p class="muted small">
            {formatBytes(lookup.media.size)}
            {lookup.media.contentType === undefined ? "" : ` · ${lookup.media.contentType}`} · link expires{" "}
            <Countdown ms={Date.parse(lookup.media.expiresAt)} />
          </p>
        </>
      ) : null}
    </div>
  );
}
