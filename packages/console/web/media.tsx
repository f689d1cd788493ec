import { useState } from "preact/hooks";
import type { BannedMedia } from "../src/model/answers.ts";
import { describeMsgTime, HOUR_MS, msgTimeAt } from "../src/model/time.ts";
import { ArchivedMedia } from "./archived-media.tsx";
import { useConsole } from "./context.ts";
import { fileName, mediaKind, Preview } from "./preview.tsx";
import { Countdown, ErrorView, Loading, useRequest, When } from "./ui.tsx";

interface CosSigItem {
  ResourceID: number;
  Code: number;
  Desc: string;
  PreSigURL: string;
  Status: number;
  StatusText: "normal" | "banned" | "missing" | "unknown";
  ExpiresAt: string;
}

const WINDOWS = [24, 72, 168];

/** Banned media review: what the archive captured that Tencent reports banned, and a FULL_CONTROL lookup box. */
export function MediaScreen() {
  return (
    <section aria-labelledby="media-title">
      <h1 id="media-title">Banned media</h1>
      <BannedInWindow />
      <CosSigBox />
    </section>
  );
}

/** `GET /v1/media/banned` over the last N ended hours; each preview is one audited `GET /v1/media`. */
function BannedInWindow() {
  const { api, config } = useConsole();
  const [hours, setHours] = useState(config.lookbackHours);
  const { result, reload } = useRequest(
    (signal) => {
      const now = Date.now();
      const to = msgTimeAt(now - HOUR_MS);
      const from = msgTimeAt(now - hours * HOUR_MS);
      return api.get<BannedMedia>(`/v1/media/banned?from=${from}&to=${to}`, signal);
    },
    [api, hours],
  );
  const windows = [...new Set([...WINDOWS, config.lookbackHours])].sort((a, b) => a - b);
  return (
    <section aria-labelledby="window-banned">
      <div class="titlebar">
        <h2 id="window-banned">Reported banned by Tencent (Status 1), as captured</h2>
        <div class="controls">
          <label for="banned-window">Window</label>
          <select
            id="banned-window"
            value={String(hours)}
            onChange={(e) => setHours(Number((e.target as HTMLSelectElement).value))}
          >
            {windows.map((w) => (
              <option key={w} value={String(w)}>
                last {w} hours
              </option>
            ))}
          </select>
          <button type="button" onClick={reload}>
            Refresh
          </button>
        </div>
      </div>
      {result.state === "loading" ? <Loading what="the window's banned media" /> : null}
      {result.state === "error" ? <ErrorView error={result.error} retry={reload} /> : null}
      {result.state === "done" ? <BannedList answer={result.data} /> : null}
    </section>
  );
}

/** Cards shown at first; the rest one click away (a long list is hard to scan on a phone). */
const FIRST_CARDS = 24;

function BannedList({ answer }: { answer: BannedMedia }) {
  const { hours, items } = answer;
  const [shown, setShown] = useState(FIRST_CARDS);
  return (
    <>
      <p class="summary">
        {describeMsgTime(answer.from)} – {describeMsgTime(answer.to)} Beijing: {items.length} banned item
        {items.length === 1 ? "" : "s"} in {hours.captured} captured hour{hours.captured === 1 ? "" : "s"}
        {hours.pending > 0 ? `; ${hours.pending} hour(s) with no media captured yet` : ""}
        {hours.corrupt > 0 ? `; ${hours.corrupt} media manifest(s) unreadable (imvault verify)` : ""}.{" "}
        <span class="muted">Each preview is an audited lookup under your key.</span>
      </p>
      {items.length === 0 ? (
        <p>No captured media in the window is reported banned.</p>
      ) : (
        <ul class="cards" aria-label="Banned media">
          {items.slice(0, shown).map((item) => (
            <li key={`${item.chatType}${item.msgTime}${item.rawUrl}`} class="card banned-item">
              <p>
                <span class="badge m-banned">banned</span>{" "}
                <a href={`#/hour/${item.chatType}/${item.msgTime}`}>
                  {item.chatType} {describeMsgTime(item.msgTime)}
                </a>
              </p>
              <p class="url" title={item.rawUrl}>
                {fileName(item.rawUrl)}
              </p>
              <ArchivedMedia rawUrl={item.rawUrl} contentType={item.contentType} />
            </li>
          ))}
        </ul>
      )}
      {items.length > shown ? (
        <button type="button" onClick={() => setShown(items.length)}>
          Show the other {items.length - shown}
        </button>
      ) : null}
    </>
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
