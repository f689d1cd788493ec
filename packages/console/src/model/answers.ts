/**
 * The API's answers as the console reads them, and the one reader of each. The types mirror
 * im-core's schemas (schemas/coverage.ts, archive-view.ts, media.ts, digest.ts, table/searches.ts):
 * the browser bundle does not carry valibot or im-core, and the contract test in
 * packages/functions (console-answers.test.ts) checks that every im-core answer type is assignable
 * to these and that the readers read what the real handler answers.
 */

// ---- GET /v1/status ---------------------------------------------------------------------------

/** An hour's media manifest items by status (MediaCounts). */
export interface MediaCounts {
  captured: number;
  missing: number;
  refused: number;
}

/** CoverageMedia: counts, `pending` while not captured, `corrupt` when unreadable; absent before archiving. */
export type CoverageMedia = MediaCounts | "pending" | "corrupt";

/** A `/v1/status` row (CoverageRow). */
export interface StatusRow {
  msgTime: string;
  chatType: string;
  status: string;
  files: number;
  bytes: number;
  messages: number;
  media?: CoverageMedia;
}

/** The chain's head and the last verification (EvidenceStatus). */
export interface EvidenceStatus {
  head: { key: string; seq: number; sealedAt: string } | null;
  lastVerified: { at: string; ok: boolean; headKey: string | null; summary: string } | null;
}

/** `GET /v1/status` (RecentCoverage). */
export interface StatusAnswer {
  hours: number;
  from: string;
  to: string;
  rows: StatusRow[];
  evidence?: EvidenceStatus;
}

/** What a heatmap cell shows of its hour's media: the mark (glyph, class) and the words. */
export interface MediaMark {
  state: "captured" | "some-missing" | "pending" | "corrupt" | "none";
  glyph: string;
  text: string;
}

/** The media mark of a status row, undefined when the row has no media part (hour not archived). */
export function mediaMark(media: CoverageMedia | undefined): MediaMark | undefined {
  if (media === undefined) return undefined;
  if (media === "pending") return { state: "pending", glyph: "◌", text: "media not captured yet" };
  if (media === "corrupt") return { state: "corrupt", glyph: "⁇", text: "media manifest unreadable" };
  const { captured, missing, refused } = media;
  if (captured + missing + refused === 0) return { state: "none", glyph: "", text: "no media" };
  const text = `media: ${captured} captured, ${missing} missing, ${refused} refused`;
  return missing + refused > 0
    ? { state: "some-missing", glyph: "◇", text }
    : { state: "captured", glyph: "●", text };
}

// ---- GET /v1/archive/{chatType}/{msgTime} -----------------------------------------------------

export type TencentStatus = 0 | 1 | 2;

/** A media manifest item (MediaItem). */
export type MediaItem =
  | {
      rawUrl: string;
      status: "captured";
      tencentStatus?: TencentStatus;
      key: string;
      size: number;
      sha256: string;
      contentType?: string;
    }
  | { rawUrl: string; status: "missing"; tencentStatus: TencentStatus }
  | { rawUrl: string; status: "refused"; tencentStatus?: TencentStatus; reason: string };

/** HourMedia: the media manifest's items, or `pending` / `corrupt`. */
export type HourMedia = { capturedAt: string; items: MediaItem[] } | "pending" | "corrupt";

export interface ManifestFile {
  key: string;
  sourceUrl: string;
  gzipSize: number;
  gzipMd5: string;
  fileSize: number;
  fileMd5: string;
  messageCount: number;
  framingProblem?: string;
}

/** `GET /v1/archive/{chatType}/{msgTime}` (ArchivedHourView). */
export interface ArchiveView {
  manifest: { chatType: string; msgTime: string; status: string; files: ManifestFile[]; archivedAt: string };
  downloads: { key: string; url: string; expiresAt: string }[];
  media: HourMedia;
}

/** How the console names a media item's state: banned is a captured item Tencent reported Status 1. */
export type MediaState = "captured" | "banned" | "missing" | "refused";

export function mediaState(item: MediaItem): MediaState {
  if (item.status === "captured") return item.tencentStatus === 1 ? "banned" : "captured";
  return item.status;
}

// ---- GET /v1/media?rawUrl=, GET /v1/media/banned ----------------------------------------------

/** `GET /v1/media?rawUrl=` (MediaLookup): the archived copy and its short-lived URL. */
export interface MediaLookup {
  rawUrl: string;
  status: "captured";
  key: string;
  size: number;
  sha256: string;
  contentType?: string;
  tencentStatus?: TencentStatus;
  capturedAt: string;
  url: string;
  expiresAt: string;
}

export const mediaLookupPath = (rawUrl: string) => `/v1/media?rawUrl=${encodeURIComponent(rawUrl)}`;

/** `GET /v1/media/banned?from=&to=` (BannedMedia). */
export interface BannedMedia {
  from: string;
  to: string;
  items: {
    chatType: string;
    msgTime: string;
    rawUrl: string;
    key: string;
    size: number;
    sha256: string;
    contentType?: string;
  }[];
  hours: { captured: number; pending: number; corrupt: number };
}

// ---- POST /v1/searches, GET /v1/searches/{id} -------------------------------------------------

/** The `POST /v1/searches` body (parseSearchBody); hours are Beijing YYYYMMDDHH, both inclusive. */
export interface SearchBody {
  user?: string;
  peer?: string;
  group?: string;
  text?: string;
  type?: string;
  from?: string;
  to?: string;
  limit?: number;
}

/** The body with only the filters that are set (the API refuses empty strings and unknown fields). */
export function searchBody(filters: Record<string, string | undefined>, limit?: number): SearchBody {
  const body: SearchBody = {};
  for (const name of ["user", "peer", "group", "text", "type", "from", "to"] as const) {
    const value = filters[name]?.trim();
    if (value !== undefined && value !== "") body[name] = value;
  }
  if (limit !== undefined) body.limit = limit;
  return body;
}

/** `GET /v1/searches/{id}` (SearchPage): a page of message-table rows. */
export interface SearchPage {
  state: "running" | "succeeded" | "failed";
  rows: Record<string, unknown>[];
  nextCursor: string | null;
  error?: string;
  truncated?: boolean;
}

/** One message, from a message-table row (SPEC "Message table"). */
export interface ChatMessage {
  chatType: string;
  msgTime: string;
  conversation: string;
  from: string;
  to?: string;
  groupId?: string;
  /** Epoch milliseconds (MsgTimestamp), undefined when Tencent's was not a whole number. */
  ms?: number;
  seq?: number;
  text: string;
  types: string[];
  mediaUrls: string[];
  /** Where the row comes from: unique per message. */
  id: string;
}

const str = (x: unknown): string | undefined => (typeof x === "string" ? x : undefined);
const num = (x: unknown): number | undefined => (typeof x === "number" && Number.isFinite(x) ? x : undefined);
const strings = (x: unknown): string[] =>
  Array.isArray(x) ? x.filter((s): s is string => typeof s === "string") : [];

/** The message of a row (MessageRow's columns, as DuckDB or Athena give them as JSON). */
export function messageOfRow(row: Record<string, unknown>): ChatMessage {
  const chatType = str(row.chat_type) ?? "C2C";
  const groupId = str(row.group_id);
  const to = str(row.to_account);
  const seconds =
    num(row.msg_timestamp) ?? (typeof row.msg_timestamp === "string" ? Number(row.msg_timestamp) : NaN);
  const seq = num(row.msg_seq);
  return {
    chatType,
    msgTime: str(row.msg_time) ?? "",
    conversation: str(row.conversation) ?? (groupId === undefined ? "" : groupId),
    from: str(row.from_account) ?? "?",
    ...(to === undefined ? {} : { to }),
    ...(groupId === undefined ? {} : { groupId }),
    ...(Number.isFinite(seconds) ? { ms: seconds * 1000 } : {}),
    ...(seq === undefined ? {} : { seq }),
    text: str(row.text) ?? "",
    types: strings(row.msg_types),
    mediaUrls: strings(row.media_urls),
    id: `${str(row.source_key) ?? ""}#${String(row.line ?? "")}`,
  };
}

export interface Conversation {
  /** `C2C ann ↔ bob` or `Group g1`. */
  title: string;
  key: string;
  messages: ChatMessage[];
}

/** Messages by conversation, each oldest first, conversations by their latest message (newest first). */
export function conversations(messages: readonly ChatMessage[]): Conversation[] {
  const by = new Map<string, ChatMessage[]>();
  for (const m of messages) {
    const key = `${m.chatType}:${m.conversation}`;
    by.set(key, [...(by.get(key) ?? []), m]);
  }
  const last = (list: ChatMessage[]) => list.at(-1)?.ms ?? 0;
  return [...by]
    .map(([key, list]) => {
      const sorted = [...list].sort((a, b) => (a.ms ?? 0) - (b.ms ?? 0) || (a.seq ?? 0) - (b.seq ?? 0));
      const first = sorted[0]!;
      const title =
        first.chatType === "Group"
          ? `Group ${first.groupId ?? first.conversation}`
          : `C2C ${first.conversation.split("|").join(" ↔ ")}`;
      return { key, title, messages: sorted };
    })
    .sort((a, b) => last(b.messages) - last(a.messages));
}
