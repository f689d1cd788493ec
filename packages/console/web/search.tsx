import { useState } from "preact/hooks";
import {
  type ChatMessage,
  conversations,
  readSearch,
  type SearchFilters,
  type SearchState,
  searchRequest,
} from "../src/model/features.ts";
import { msgTimeAt } from "../src/model/time.ts";
import { NotAvailableError } from "./api.ts";
import { useConsole } from "./context.ts";
import { ErrorView, Loading, NotAvailable, useRequest, When } from "./ui.tsx";

/** How long a search is waited for (polling `GET /v1/searches/{id}`), and how often it is asked. */
const SEARCH_WAIT_MS = 120_000;
const POLL_MS = [500, 1000, 2000, 3000];

/** Search and conversations, over `POST /v1/searches` + `GET /v1/searches/{id}` when the deployment has them. */
export function SearchScreen() {
  const { api } = useConsole();
  // The OpenAPI document says whether this deployment has the route, without a failing request.
  const { result } = useRequest(
    async (signal) => {
      const doc = await api.get<{ paths?: Record<string, unknown> }>("/v1/openapi.json", signal);
      return doc.paths?.["/v1/searches"] !== undefined;
    },
    [api],
  );
  return (
    <section aria-labelledby="search-title">
      <h1 id="search-title">Search and conversations</h1>
      {result.state === "loading" ? <Loading what="what this deployment offers" /> : null}
      {result.state === "error" ? <ErrorView error={result.error} /> : null}
      {result.state === "done" && !result.data ? (
        <NotAvailable what="Search (/v1/searches)">
          <p>
            On the command line, <code>imvault search</code> and <code>imvault query</code> read the message
            table.
          </p>
        </NotAvailable>
      ) : null}
      {result.state === "done" && result.data ? <SearchForm /> : null}
    </section>
  );
}

/** A `datetime-local` value (the viewer's zone) as the Beijing hour holding it. */
function toMsgTime(local: string): string | undefined {
  if (local === "") return undefined;
  const ms = new Date(local).getTime();
  return Number.isNaN(ms) ? undefined : msgTimeAt(ms);
}

function SearchForm() {
  const { api } = useConsole();
  const [filters, setFilters] = useState<Record<string, string>>({});
  const [run, setRun] = useState<
    | { kind: "idle" }
    | { kind: "busy"; note: string }
    | { kind: "done"; search: SearchState }
    | { kind: "error"; error: unknown }
  >({
    kind: "idle",
  });
  const field = (name: string) => ({
    id: `f-${name}`,
    name,
    value: filters[name] ?? "",
    onInput: (e: Event) => setFilters({ ...filters, [name]: (e.target as HTMLInputElement).value }),
  });

  const submit = async (event: Event) => {
    event.preventDefault();
    const wanted: SearchFilters = {
      ...(filters.user ? { user: filters.user } : {}),
      ...(filters.peer ? { peer: filters.peer } : {}),
      ...(filters.group ? { group: filters.group } : {}),
      ...(filters.text ? { text: filters.text } : {}),
      ...(toMsgTime(filters.from ?? "") === undefined ? {} : { from: toMsgTime(filters.from ?? "")! }),
      ...(toMsgTime(filters.to ?? "") === undefined ? {} : { to: toMsgTime(filters.to ?? "")! }),
      ...(filters.chatType === "C2C" || filters.chatType === "Group" ? { chatType: filters.chatType } : {}),
    };
    setRun({ kind: "busy", note: "Starting the search…" });
    try {
      let search = readSearch(await api.post<unknown>("/v1/searches", searchRequest(wanted)));
      const deadline = Date.now() + SEARCH_WAIT_MS;
      for (
        let i = 0;
        (search.state === "queued" || search.state === "running") && search.id !== undefined;
        i++
      ) {
        if (Date.now() > deadline) throw new Error("The search is still running: try again later.");
        setRun({ kind: "busy", note: `Searching (${search.state})…` });
        await new Promise((r) => setTimeout(r, POLL_MS[Math.min(i, POLL_MS.length - 1)]));
        search = readSearch(await api.get<unknown>(`/v1/searches/${encodeURIComponent(search.id)}`));
      }
      // The API has no chat type filter: the rows are narrowed here.
      const chatType = wanted.chatType;
      setRun({
        kind: "done",
        search:
          chatType === undefined
            ? search
            : { ...search, messages: search.messages.filter((m) => m.chatType === chatType) },
      });
    } catch (error) {
      setRun({ kind: "error", error });
    }
  };

  return (
    <>
      <form class="search-form" onSubmit={submit}>
        <div>
          <label for="f-user">User (sender)</label>
          <input {...field("user")} autocomplete="off" />
        </div>
        <div>
          <label for="f-peer">Peer (C2C)</label>
          <input {...field("peer")} autocomplete="off" />
        </div>
        <div>
          <label for="f-group">Group ID</label>
          <input {...field("group")} autocomplete="off" />
        </div>
        <div>
          <label for="f-text">Text contains</label>
          <input {...field("text")} type="search" />
        </div>
        <div>
          <label for="f-from">From (your time)</label>
          <input {...field("from")} type="datetime-local" required />
        </div>
        <div>
          <label for="f-to">To (your time)</label>
          <input {...field("to")} type="datetime-local" required />
        </div>
        <div>
          <label for="f-chatType">Chat type</label>
          <select {...field("chatType")}>
            <option value="">both</option>
            <option value="C2C">C2C</option>
            <option value="Group">Group</option>
          </select>
        </div>
        <button type="submit" disabled={run.kind === "busy"}>
          Search
        </button>
      </form>
      {run.kind === "busy" ? <Loading what={run.note} /> : null}
      {run.kind === "error" ? (
        run.error instanceof NotAvailableError ? (
          <NotAvailable what="Search (/v1/searches)" />
        ) : (
          <ErrorView error={run.error} />
        )
      ) : null}
      {run.kind === "done" ? <Results search={run.search} /> : null}
    </>
  );
}

function Results({ search }: { search: SearchState }) {
  if (search.state === "failed") return <ErrorView error={new Error(search.error ?? "The search failed.")} />;
  if (search.messages.length === 0) return <p>No message matches.</p>;
  return (
    <div class="conversations">
      <p>
        {search.messages.length} message{search.messages.length === 1 ? "" : "s"}
        {search.truncated ? " (more matched: narrow the filters)" : ""}.
      </p>
      {conversations(search.messages).map((c) => (
        <Conversation key={c.name} name={c.name} messages={c.messages} />
      ))}
    </div>
  );
}

function Conversation({ name, messages }: { name: string; messages: ChatMessage[] }) {
  const first = messages[0]!.from;
  return (
    <article class="conversation" aria-label={`Conversation ${name}`}>
      <h2>{name}</h2>
      <ol class="bubbles">
        {messages.map((m) => (
          <li
            key={`${m.timestamp}-${m.seq ?? ""}-${m.from}`}
            class={`bubble ${m.from === first ? "left" : "right"}`}
          >
            <p class="who">{m.from}</p>
            <p class="text">{m.text === "" ? <em>({m.types.join(", ") || "no text"})</em> : m.text}</p>
            {m.mediaUrls.length > 0 ? <p class="muted">{m.mediaUrls.length} media</p> : null}
            <p class="when">
              <When ms={m.timestamp * 1000} seconds />
            </p>
          </li>
        ))}
      </ol>
    </article>
  );
}
