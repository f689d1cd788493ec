/**
 * Readers of the answers other routes are gaining (SPEC "HTTP API, added"), one per feature, each the
 * one place to finish when its route lands: media per hour in `/v1/status` and `/v1/archive`, the
 * digest chain head in `/v1/status`, and `/v1/searches`. Each reads what it can and answers undefined
 * when the deployment does not carry the feature yet; the screens then say so.
 */

type Json = Record<string, unknown>;

const isObject = (x: unknown): x is Json => typeof x === "object" && x !== null && !Array.isArray(x);
const num = (x: unknown): number | undefined => (typeof x === "number" && Number.isFinite(x) ? x : undefined);
const str = (x: unknown): string | undefined => (typeof x === "string" ? x : undefined);
/** The first of `names` that `o` carries as a number. */
const numOf = (o: Json, ...names: string[]) => names.map((n) => num(o[n])).find((v) => v !== undefined);
const strOf = (o: Json, ...names: string[]) => names.map((n) => str(o[n])).find((v) => v !== undefined);

// ---- media per hour (`/v1/status` rows, `/v1/archive` answers) -----------------------------------

/** What an hour's media capture came to, as a status row carries it. */
export interface MediaSummary {
  /** Media URLs the hour's messages hold. */
  total: number;
  captured: number;
  /** Of those captured, how many Tencent reports banned (Status 1). */
  banned: number;
  missing: number;
  refused: number;
  /** True when the hour's media manifest is written (its capture is done). */
  done: boolean;
}

/**
 * `row.media` of a `/v1/status` row: counts per item status (`captured`, `missing`, `refused`, and
 * `banned` among the captured), or undefined when the row has none (not captured yet, or a
 * deployment without media capture).
 */
export function readMediaSummary(row: unknown): MediaSummary | undefined {
  if (!isObject(row) || !isObject(row.media)) return undefined;
  const m = row.media;
  const counts = isObject(m.counts) ? m.counts : m;
  const captured = numOf(counts, "captured") ?? 0;
  const missing = numOf(counts, "missing") ?? 0;
  const refused = numOf(counts, "refused") ?? 0;
  const banned = numOf(counts, "banned") ?? 0;
  const total = numOf(counts, "total", "items") ?? captured + missing + refused;
  const status = strOf(m, "status");
  return { total, captured, banned, missing, refused, done: status === undefined || status !== "pending" };
}

export type MediaItemState = "captured" | "banned" | "missing" | "refused";

/** One media item of an hour, as `/v1/archive` lists it (the media manifest's items, maybe with a URL). */
export interface MediaItemView {
  rawUrl: string;
  state: MediaItemState;
  size?: number;
  contentType?: string;
  /** A short-lived URL of the captured copy, when the answer carries one. */
  url?: string;
  reason?: string;
}

/**
 * The media items of an `/v1/archive` answer: `media.items` (or `media.manifest.items`), undefined
 * when the answer has no media part.
 */
export function readHourMedia(view: unknown): MediaItemView[] | undefined {
  if (!isObject(view) || !isObject(view.media)) return undefined;
  const media = view.media;
  const items = Array.isArray(media.items)
    ? media.items
    : isObject(media.manifest) && Array.isArray(media.manifest.items)
      ? media.manifest.items
      : undefined;
  if (items === undefined) return undefined;
  const urls = new Map<string, string>();
  for (const d of Array.isArray(media.downloads) ? media.downloads : []) {
    if (isObject(d) && str(d.rawUrl) !== undefined && str(d.url) !== undefined)
      urls.set(d.rawUrl as string, d.url as string);
  }
  return items.filter(isObject).flatMap((item): MediaItemView[] => {
    const rawUrl = str(item.rawUrl);
    if (rawUrl === undefined) return [];
    const status = str(item.status);
    const state: MediaItemState =
      status === "captured"
        ? item.tencentStatus === 1
          ? "banned"
          : "captured"
        : status === "missing"
          ? "missing"
          : "refused";
    const url = str(item.url) ?? urls.get(rawUrl);
    const size = num(item.size);
    const contentType = str(item.contentType);
    const reason = str(item.reason);
    return [
      {
        rawUrl,
        state,
        ...(size === undefined ? {} : { size }),
        ...(contentType === undefined ? {} : { contentType }),
        ...(url === undefined ? {} : { url }),
        ...(reason === undefined ? {} : { reason }),
      },
    ];
  });
}

/** `GET /v1/media?rawUrl=`: the short-lived URL of the captured copy, when the answer names one. */
export function readMediaLookup(answer: unknown): { url: string; expiresAt?: string } | undefined {
  if (!isObject(answer)) return undefined;
  const url = strOf(answer, "url", "downloadUrl");
  if (url === undefined) return undefined;
  const expiresAt = strOf(answer, "expiresAt");
  return { url, ...(expiresAt === undefined ? {} : { expiresAt }) };
}

// ---- integrity: the digest chain (`/v1/status`) ---------------------------------------------------

export interface ChainView {
  /** The newest digest's key, hash and when it was signed. */
  head?: { key?: string; sha256?: string; signedAt?: string; sequence?: number };
  /** How many digests the chain holds, when told. */
  length?: number;
  lastVerification?: { at?: string; ok?: boolean; checked?: number; problem?: string };
}

/** `status.digests` (or `status.chain`, `status.integrity`): undefined when the status has none. */
export function readChain(status: unknown): ChainView | undefined {
  if (!isObject(status)) return undefined;
  const c = [status.digests, status.chain, status.integrity].find(isObject);
  if (c === undefined) return undefined;
  const h = isObject(c.head) ? c.head : undefined;
  const lv = [c.lastVerification, c.verification, c.verified].find(isObject);
  const view: ChainView = {};
  if (h !== undefined) {
    view.head = {};
    const key = strOf(h, "key");
    const sha256 = strOf(h, "sha256", "hash");
    const signedAt = strOf(h, "signedAt", "createdAt", "at");
    const sequence = numOf(h, "sequence", "seq", "index");
    if (key !== undefined) view.head.key = key;
    if (sha256 !== undefined) view.head.sha256 = sha256;
    if (signedAt !== undefined) view.head.signedAt = signedAt;
    if (sequence !== undefined) view.head.sequence = sequence;
  }
  const length = numOf(c, "length", "count", "digests");
  if (length !== undefined) view.length = length;
  if (lv !== undefined) {
    view.lastVerification = {};
    const at = strOf(lv, "at", "verifiedAt", "checkedAt");
    const checked = numOf(lv, "checked", "files", "digests");
    const problem = strOf(lv, "problem", "error", "message");
    if (at !== undefined) view.lastVerification.at = at;
    if (typeof lv.ok === "boolean") view.lastVerification.ok = lv.ok;
    if (checked !== undefined) view.lastVerification.checked = checked;
    if (problem !== undefined) view.lastVerification.problem = problem;
  }
  return view;
}

// ---- search (`POST /v1/searches`, `GET /v1/searches/{id}`) -----------------------------------------

export interface SearchFilters {
  user?: string;
  peer?: string;
  group?: string;
  text?: string;
  /** Beijing hours YYYYMMDDHH, both ends inclusive. */
  from?: string;
  to?: string;
  chatType?: "C2C" | "Group";
}

/** The API's search filters (`imvault search`'s); the chat type is applied to the rows here. */
const API_FILTERS = new Set(["user", "peer", "group", "text", "from", "to"]);

/** The `POST /v1/searches` body: only the API's filters that are set. */
export function searchRequest(filters: SearchFilters): Record<string, string> {
  const body: Record<string, string> = {};
  for (const [k, value] of Object.entries(filters)) {
    if (API_FILTERS.has(k) && typeof value === "string" && value.trim() !== "") body[k] = value.trim();
  }
  return body;
}

export interface SearchState {
  id?: string;
  /** `queued` and `running` mean "ask again". */
  state: "queued" | "running" | "succeeded" | "failed";
  error?: string;
  messages: ChatMessage[];
  /** More matches than the answer holds. */
  truncated: boolean;
}

/** One message row of the message table (SPEC "Message table"), in snake_case or camelCase. */
export interface ChatMessage {
  chatType: string;
  conversation: string;
  from: string;
  to?: string;
  groupId?: string;
  /** Seconds since the epoch (MsgTimestamp). */
  timestamp: number;
  seq?: number;
  text: string;
  types: string[];
  mediaUrls: string[];
}

function readMessage(row: unknown): ChatMessage | undefined {
  if (!isObject(row)) return undefined;
  const from = strOf(row, "from_account", "fromAccount", "From_Account");
  const timestamp = numOf(row, "msg_timestamp", "msgTimestamp", "MsgTimestamp");
  if (from === undefined || timestamp === undefined) return undefined;
  const to = strOf(row, "to_account", "toAccount");
  const groupId = strOf(row, "group_id", "groupId");
  const chatType = strOf(row, "chat_type", "chatType") ?? (groupId === undefined ? "C2C" : "Group");
  const conversation =
    strOf(row, "conversation") ??
    (groupId !== undefined ? `group:${groupId}` : [from, to ?? ""].sort().join(" ↔ "));
  const list = (x: unknown) => (Array.isArray(x) ? x.filter((s): s is string => typeof s === "string") : []);
  const seq = numOf(row, "msg_seq", "msgSeq");
  return {
    chatType,
    conversation,
    from,
    ...(to === undefined ? {} : { to }),
    ...(groupId === undefined ? {} : { groupId }),
    timestamp,
    ...(seq === undefined ? {} : { seq }),
    text: strOf(row, "text") ?? "",
    types: list(row.msg_types ?? row.msgTypes),
    mediaUrls: list(row.media_urls ?? row.mediaUrls),
  };
}

/** A `/v1/searches` answer (either route): its state and the messages it holds so far. */
export function readSearch(answer: unknown): SearchState {
  if (!isObject(answer))
    return { state: "failed", error: "the answer is not a search", messages: [], truncated: false };
  const raw = strOf(answer, "status", "state") ?? "succeeded";
  const state: SearchState["state"] =
    raw === "queued" || raw === "running" || raw === "failed"
      ? raw
      : raw === "pending"
        ? "queued"
        : "succeeded";
  const rows = [answer.messages, answer.rows, answer.results].find(Array.isArray) ?? [];
  const messages = rows.map(readMessage).filter((m): m is ChatMessage => m !== undefined);
  const id = strOf(answer, "id", "searchId");
  const error =
    strOf(answer, "error", "problem") ??
    (isObject(answer.error) ? strOf(answer.error, "message") : undefined);
  return {
    ...(id === undefined ? {} : { id }),
    state,
    ...(error === undefined ? {} : { error }),
    messages,
    // A finished search with a next page holds more than this answer (the console reads one page).
    truncated: answer.truncated === true || (state === "succeeded" && typeof answer.nextCursor === "string"),
  };
}

/** Messages by conversation, each conversation oldest first, conversations by their latest message. */
export function conversations(messages: readonly ChatMessage[]): { name: string; messages: ChatMessage[] }[] {
  const by = new Map<string, ChatMessage[]>();
  for (const m of messages) by.set(m.conversation, [...(by.get(m.conversation) ?? []), m]);
  return [...by]
    .map(([name, list]) => ({
      name,
      messages: list.sort((a, b) => a.timestamp - b.timestamp || (a.seq ?? 0) - (b.seq ?? 0)),
    }))
    .sort((a, b) => b.messages.at(-1)!.timestamp - a.messages.at(-1)!.timestamp);
}
