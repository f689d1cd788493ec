import { useState } from "preact/hooks";
import {
  type ChatMessage,
  type Conversation,
  conversations,
  messageOfRow,
  type SearchPage,
  searchBody,
} from "../src/model/answers.ts";
import { describeMsgTime, msgTimeAt } from "../src/model/time.ts";
import { ApiError } from "./api.ts";
import { ArchivedMedia } from "./archived-media.tsx";
import { useConsole } from "./context.ts";
import { ErrorView, Loading, NotAvailable, When } from "./ui.tsx";

/** How long a search is waited for (polling `GET /v1/searches/{id}`), and how often it is asked. */
const SEARCH_WAIT_MS = 120_000;
const POLL_MS = [300, 700, 1000, 2000, 3000];
/** MsgTypes offered in the type filter (SPEC "Message table": msg_types). */
const TYPES = [
  "TIMTextElem",
  "TIMImageElem",
  "TIMVideoFileElem",
  "TIMSoundElem",
  "TIMFileElem",
  "TIMCustomElem",
];

type Run =
  | { kind: "idle" }
  | { kind: "busy"; note: string }
  | { kind: "done"; id: string; page: SearchPage; messages: ChatMessage[]; more: boolean }
  | { kind: "error"; error: unknown };

/** The window a new search starts with: the last seven days, as `datetime-local` values (the viewer's zone). */
const DEFAULT_WINDOW_MS = 7 * 24 * 3600_000;

/** An instant as a `datetime-local` value in the viewer's zone (YYYY-MM-DDTHH:MM). */
function localInput(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** A `datetime-local` value (the viewer's zone) as the Beijing hour holding it. */
function toMsgTime(local: string | undefined): string | undefined {
  if (local === undefined || local === "") return undefined;
  const ms = new Date(local).getTime();
  return Number.isNaN(ms) ? undefined : msgTimeAt(ms);
}

/** Search and conversations: `POST /v1/searches`, then `GET /v1/searches/{id}` until it is done, a page at a time. */
export function SearchScreen() {
  const { api } = useConsole();
  // The API requires a window (a search without one would read the whole table): start with a week.
  const [filters, setFilters] = useState<Record<string, string>>(() => {
    const now = Date.now();
    return { from: localInput(now - DEFAULT_WINDOW_MS), to: localInput(now) };
  });
  const [run, setRun] = useState<Run>({ kind: "idle" });
  const field = (name: string) => ({
    id: `f-${name}`,
    name,
    value: filters[name] ?? "",
    onInput: (e: Event) => setFilters({ ...filters, [name]: (e.target as HTMLInputElement).value }),
  });

  const submit = async (event: Event) => {
    event.preventDefault();
    const body = searchBody({ ...filters, from: toMsgTime(filters.from), to: toMsgTime(filters.to) });
    setRun({ kind: "busy", note: "Starting the search…" });
    try {
      const { id } = await api.post<{ id: string }>("/v1/searches", body);
      const deadline = Date.now() + SEARCH_WAIT_MS;
      let page = await api.get<SearchPage>(`/v1/searches/${encodeURIComponent(id)}`);
      // Anything but a final state is asked again (an engine may add one, e.g. queued).
      for (let i = 0; page.state !== "succeeded" && page.state !== "failed"; i++) {
        if (Date.now() > deadline) throw new Error("The search is still running: try again in a while.");
        setRun({ kind: "busy", note: "Searching the message table…" });
        await new Promise((r) => setTimeout(r, POLL_MS[Math.min(i, POLL_MS.length - 1)]));
        page = await api.get<SearchPage>(`/v1/searches/${encodeURIComponent(id)}`);
      }
      setRun({
        kind: "done",
        id,
        page,
        messages: page.rows.map(messageOfRow),
        more: page.nextCursor !== null,
      });
    } catch (error) {
      setRun({ kind: "error", error });
    }
  };

  const loadMore = async () => {
    if (run.kind !== "done" || run.page.nextCursor === null) return;
    const before = run;
    setRun({ ...before, more: false });
    try {
      const page = await api.get<SearchPage>(
        `/v1/searches/${encodeURIComponent(before.id)}?cursor=${encodeURIComponent(before.page.nextCursor!)}`,
      );
      setRun({
        kind: "done",
        id: before.id,
        page,
        messages: [...before.messages, ...page.rows.map(messageOfRow)],
        more: page.nextCursor !== null,
      });
    } catch (error) {
      setRun({ kind: "error", error });
    }
  };

  return (
    <section aria-labelledby="search-title">
      <h1 id="search-title">Search and conversations</h1>
      <form class="search-form" onSubmit={submit} aria-label="Search the message table">
        <div>
          <label for="f-user">User (sent or received)</label>
          <input {...field("user")} autocomplete="off" spellcheck={false} />
        </div>
        <div>
          <label for="f-peer">Peer (with User: their C2C chat)</label>
          <input {...field("peer")} autocomplete="off" spellcheck={false} />
        </div>
        <div>
          <label for="f-group">Group ID</label>
          <input {...field("group")} autocomplete="off" spellcheck={false} />
        </div>
        <div>
          <label for="f-text">Text contains</label>
          <input {...field("text")} type="search" />
        </div>
        <div>
          <label for="f-type">Message type</label>
          <select {...field("type")}>
            <option value="">any</option>
            {TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="f-from">From (your time)</label>
          <input {...field("from")} type="datetime-local" required />
        </div>
        <div>
          <label for="f-to">To (your time)</label>
          <input {...field("to")} type="datetime-local" required />
        </div>
        <button type="submit" disabled={run.kind === "busy"}>
          Search
        </button>
      </form>
      <p class="muted small">
        From and To are read in your time zone and searched as the Beijing hours holding them; text is matched
        as typed (no case folding).
      </p>
      {run.kind === "busy" ? <Loading what={run.note} /> : null}
      {run.kind === "error" ? (
        run.error instanceof ApiError &&
        run.error.status === 404 &&
        /not available/.test(run.error.message) ? (
          <NotAvailable what="Search (/v1/searches)">
            <p>{run.error.message}</p>
          </NotAvailable>
        ) : (
          <ErrorView error={run.error} />
        )
      ) : null}
      {run.kind === "done" ? <Results run={run} loadMore={loadMore} /> : null}
    </section>
  );
}

function Results({ run, loadMore }: { run: Extract<Run, { kind: "done" }>; loadMore: () => void }) {
  if (run.page.state === "failed") {
    return <ErrorView error={new Error(`The search failed: ${run.page.error ?? "no reason given"}`)} />;
  }
  if (run.messages.length === 0) return <p role="status">No message matches.</p>;
  const list = conversations(run.messages);
  return (
    <div class="conversations">
      <p role="status">
        {run.messages.length} message{run.messages.length === 1 ? "" : "s"} in {list.length} conversation
        {list.length === 1 ? "" : "s"}
        {run.page.truncated === true ? " (the search matched more than it keeps: narrow the filters)" : ""}.
      </p>
      {list.map((c) => (
        <ConversationView key={c.key} conversation={c} />
      ))}
      {run.more ? (
        <button type="button" onClick={loadMore}>
          Load more messages
        </button>
      ) : null}
    </div>
  );
}

function ConversationView({ conversation }: { conversation: Conversation }) {
  const { messages } = conversation;
  const first = messages[0]!.from;
  const hours = [...new Set(messages.map((m) => m.msgTime))];
  return (
    <article class="conversation" aria-label={conversation.title}>
      <h2>{conversation.title}</h2>
      <p class="muted small">
        Archived hour{hours.length === 1 ? "" : "s"} (Beijing):{" "}
        {hours.slice(0, 3).map((h, i) => (
          <span key={h}>
            {i > 0 ? ", " : ""}
            <a href={`#/hour/${messages[0]!.chatType}/${h}`}>{describeMsgTime(h)}</a>
          </span>
        ))}
        {hours.length > 3 ? "…" : ""}
      </p>
      <ol class="bubbles">
        {messages.map((m) => (
          <li key={m.id} class={`bubble ${m.from === first ? "left" : "right"}`}>
            <p class="who">{m.from}</p>
            {m.text === "" ? null : <p class="text">{m.text}</p>}
            {m.text === "" && m.mediaUrls.length === 0 ? (
              <p class="muted">
                <em>({m.types.join(", ") || "no content"})</em>
              </p>
            ) : null}
            {m.mediaUrls.map((url) => (
              <ArchivedMedia key={url} rawUrl={url} />
            ))}
            <p class="when">{m.ms === undefined ? "time unknown" : <When ms={m.ms} seconds />}</p>
          </li>
        ))}
      </ol>
    </article>
  );
}
