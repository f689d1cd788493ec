import { useState } from "preact/hooks";
import { type MediaItemView, readHourMedia, readMediaSummary } from "../src/model/features.ts";
import type { StatusAnswer } from "../src/model/heatmap.ts";
import { describeMsgTime } from "../src/model/time.ts";
import { useConsole } from "./context.ts";
import { fileName, mediaKind, Preview } from "./preview.tsx";
import { Countdown, ErrorView, Loading, NotAvailable, useRequest, When } from "./ui.tsx";

interface CosSigItem {
  ResourceID: number;
  Code: number;
  Desc: string;
  PreSigURL: string;
  Status: number;
  StatusText: "normal" | "banned" | "missing" | "unknown";
  ExpiresAt: string;
}

/** Hours whose banned media are listed at most (each costs one `/v1/archive` request). */
const MAX_HOURS = 12;

/** Banned media review: what the archive captured that Tencent reports banned, and a FULL_CONTROL lookup box. */
export function MediaScreen() {
  return (
    <section aria-labelledby="media-title">
      <h1 id="media-title">Banned media</h1>
      <CosSigBox />
      <BannedInWindow />
    </section>
  );
}

function BannedInWindow() {
  const { api, config } = useConsole();
  const { result, reload } = useRequest(
    async (signal) => {
      const status = await api.get<StatusAnswer>(`/v1/status?hours=${config.lookbackHours}`, signal);
      const withMedia = status.rows.map((row) => ({ row, media: readMediaSummary(row) }));
      if (!withMedia.some((r) => r.media !== undefined)) return undefined;
      const hours = withMedia.filter((r) => (r.media?.banned ?? 0) > 0).slice(-MAX_HOURS);
      const lists = await Promise.all(
        hours.map(async ({ row }) => {
          const view = await api.get<unknown>(`/v1/archive/${row.chatType}/${row.msgTime}`, signal);
          return { row, items: (readHourMedia(view) ?? []).filter((i) => i.state === "banned") };
        }),
      );
      return lists.filter((l) => l.items.length > 0);
    },
    [api, config.lookbackHours],
  );
  return (
    <section aria-labelledby="window-banned">
      <h2 id="window-banned">Banned in the last {config.lookbackHours} hours</h2>
      {result.state === "loading" ? <Loading what="the window's media" /> : null}
      {result.state === "error" ? <ErrorView error={result.error} retry={reload} /> : null}
      {result.state === "done" && result.data === undefined ? (
        <NotAvailable what="Media capture per hour">
          <p>Look media up by their COS URLs above in the meantime.</p>
        </NotAvailable>
      ) : null}
      {result.state === "done" && result.data !== undefined ? (
        result.data.length === 0 ? (
          <p>No captured media in the window is reported banned.</p>
        ) : (
          result.data.map(({ row, items }) => (
            <article key={`${row.chatType}${row.msgTime}`} class="banned-hour">
              <h3>
                <a href={`#/hour/${row.chatType}/${row.msgTime}`}>
                  {row.chatType} {describeMsgTime(row.msgTime)} Beijing
                </a>
              </h3>
              <BannedItems items={items} />
            </article>
          ))
        )
      ) : null}
    </section>
  );
}

function BannedItems({ items }: { items: MediaItemView[] }) {
  return (
    <ul class="cards">
      {items.map((item) => (
        <li key={item.rawUrl} class="card">
          <p class="url">{fileName(item.rawUrl)}</p>
          {item.url === undefined ? (
            <p class="muted">No short-lived URL in the answer: look it up by its COS URL.</p>
          ) : (
            <Preview
              url={item.url}
              name={fileName(item.rawUrl)}
              kind={mediaKind(item.rawUrl, item.contentType)}
            />
          )}
        </li>
      ))}
    </ul>
  );
}

/** COS URLs pasted one per line (or separated by spaces) → `POST /v1/cos-sig` → status and previews. */
function CosSigBox() {
  const { api } = useConsole();
  const [text, setText] = useState("");
  const [state, setState] = useState<
    | { kind: "idle" }
    | { kind: "busy" }
    | { kind: "done"; urls: string[]; items: CosSigItem[] }
    | { kind: "error"; error: unknown }
  >({ kind: "idle" });

  const submit = async (event: Event) => {
    event.preventDefault();
    const urls = [...new Set(text.split(/\s+/).filter((u) => u !== ""))];
    if (urls.length === 0) return;
    setState({ kind: "busy" });
    try {
      const answer = await api.post<{ PreSigURLs: CosSigItem[] }>("/v1/cos-sig", {
        RawURLs: urls.map((RawURL, ResourceID) => ({ ResourceID, RawURL })),
      });
      setState({ kind: "done", urls, items: answer.PreSigURLs });
    } catch (error) {
      setState({ kind: "error", error });
    }
  };

  return (
    <section aria-labelledby="cos-sig-title" class="cos-sig">
      <h2 id="cos-sig-title">Look up COS URLs (FULL_CONTROL)</h2>
      <form onSubmit={submit}>
        <label for="cos-urls">COS URLs of message media, one per line</label>
        <textarea
          id="cos-urls"
          rows={4}
          spellcheck={false}
          placeholder="https://cos.ap-shanghai.myqcloud.com/…/image.jpg"
          value={text}
          onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
        />
        <button type="submit" disabled={state.kind === "busy"}>
          {state.kind === "busy" ? "Looking up…" : "Look up"}
        </button>
      </form>
      {state.kind === "busy" ? <Loading what="signed URLs" /> : null}
      {state.kind === "error" ? <ErrorView error={state.error} /> : null}
      {state.kind === "done" ? (
        <ul class="cards" aria-label="Lookup results">
          {state.items.map((item) => {
            const rawUrl = state.urls[item.ResourceID] ?? "";
            const readable = item.Code === 0 && item.PreSigURL !== "" && item.Status !== 2;
            return (
              <li key={item.ResourceID} class="card cos-result" data-status-text={item.StatusText}>
                <p class="url" title={rawUrl}>
                  {fileName(rawUrl)}
                </p>
                <p>
                  <span class={`badge c-${item.StatusText}`}>{item.StatusText}</span>
                  {item.Code === 0 ? null : (
                    <span class="warn">
                      {" "}
                      Tencent code {item.Code}: {item.Desc}
                    </span>
                  )}
                </p>
                {readable ? (
                  <>
                    <p class="muted">
                      URL expires <Countdown ms={Date.parse(item.ExpiresAt)} /> (
                      <When ms={Date.parse(item.ExpiresAt)} />)
                    </p>
                    <Preview url={item.PreSigURL} name={fileName(rawUrl)} kind={mediaKind(rawUrl)} />
                  </>
                ) : (
                  <p class="muted">
                    {item.Status === 2 ? "Tencent no longer has this file." : "No URL to preview."}
                  </p>
                )}
              </li>
            );
          })}
        </ul>
      ) : null}
    </section>
  );
}
