/**
 * The rsmf_manifest.json of one slice (RSMF 2.0.0, Relativity's published schema: participants,
 * conversations, events), built from the slice's messages. Accounts are the participants' ids and
 * displays; a C2C conversation is `direct`, a group a `channel`.
 */
import type { ExportMedia } from "../media.ts";
import type { Slice, SliceMessage } from "./types.ts";

export const RSMF_VERSION = "2.0.0";
const PLATFORM = "Tencent Cloud IM";
const UNKNOWN = "(unknown sender)";

interface Custom {
  name: string;
  value: string;
}

export interface RsmfEvent {
  id: string;
  type: "message";
  participant: string;
  conversation: string;
  timestamp: string;
  body: string;
  direction?: "incoming" | "outgoing";
  attachments?: { id: string; display: string; size: number }[];
  custom: Custom[];
}

/** An attachment of the slice: the name it has in rsmf.zip and the medium it holds. */
export interface RsmfAttachment {
  name: string;
  media: ExportMedia;
}

/** An event as add() knows it; its attachments and media notes are made by manifest(). */
interface PendingEvent {
  event: Omit<RsmfEvent, "attachments">;
  media: ExportMedia[];
}

export class RsmfManifestBuilder {
  /** The slice's media in rsmf.zip, in the order added; one whose bytes turn out absent is dropped. */
  readonly attachments: RsmfAttachment[] = [];
  readonly #events: PendingEvent[] = [];
  readonly #participants = new Set<string>();
  readonly #byUrl = new Map<string, string>();
  readonly #slice: Slice;
  readonly #self: string | undefined;
  readonly #conversationId: string;

  constructor(slice: Slice, self: string | undefined) {
    this.#slice = slice;
    this.#self = self;
    this.#conversationId = slice.conversation ?? "(none)";
  }

  /** How many events, and the first and last one's timestamps (the X-RSMF-* headers). */
  get span(): { count: number; begin?: string; end?: string } {
    const first = this.#events[0]?.event.timestamp;
    const last = this.#events.at(-1)?.event.timestamp;
    return { count: this.#events.length, ...(first === undefined ? {} : { begin: first, end: last }) };
  }

  add({ row, at, media }: SliceMessage): void {
    const participant = row.from_account ?? UNKNOWN;
    this.#participants.add(participant);
    if (row.to_account !== null && this.#slice.chatType === "C2C") this.#participants.add(row.to_account);
    for (const m of media) if (m.status === "captured") this.#attachmentName(m);
    const custom: Custom[] = [
      { name: "Source", value: `${row.source_key} line ${row.line}` },
      { name: "MsgTypes", value: row.msg_types.join(", ") || "(none)" },
    ];
    if (row.msg_seq !== null) custom.push({ name: "MsgSeq", value: String(row.msg_seq) });
    if (row.msg_random !== null) custom.push({ name: "MsgRandom", value: String(row.msg_random) });
    const body =
      row.text ?? (row.msg_types.length > 0 ? `[${row.msg_types.join(", ")}]` : "[message without elements]");
    this.#events.push({
      event: {
        id: `${row.source_key}#${row.line}`,
        type: "message",
        participant,
        conversation: this.#conversationId,
        timestamp: new Date(at).toISOString(),
        body,
        ...(this.#self === undefined
          ? {}
          : { direction: participant === this.#self ? ("outgoing" as const) : ("incoming" as const) }),
        custom,
      },
      media,
    });
  }

  /**
   * The archive store turned out not to have this captured medium's bytes when it was to be zipped:
   * every message of the slice that holds it now lists it `absent`, and rsmf.zip leaves it out.
   */
  markAbsent(key: string, reason: string): void {
    for (const { media } of this.#events) {
      for (const m of media) {
        if (m.status === "captured" && m.key === key) Object.assign(m, { status: "absent", reason });
      }
    }
    const at = this.attachments.findIndex((a) => a.media.key === key);
    if (at >= 0) this.attachments.splice(at, 1);
  }

  /** The events as they stand: each captured medium an attachment, the others noted. */
  get events(): RsmfEvent[] {
    return this.#events.map(({ event, media }) => {
      const attachments: NonNullable<RsmfEvent["attachments"]> = [];
      const banned: string[] = [];
      const missing: string[] = [];
      for (const m of media) {
        if (m.status !== "captured") {
          missing.push(`${m.status}${m.reason === undefined ? "" : ` (${m.reason})`}: ${m.rawUrl}`);
          continue;
        }
        if (m.banned) banned.push(m.rawUrl);
        attachments.push({ id: this.#attachmentName(m), display: displayName(m), size: m.size! });
      }
      const custom = [...event.custom];
      if (banned.length > 0) custom.push({ name: "Banned media", value: banned.join("\n") });
      if (missing.length > 0) custom.push({ name: "Missing media", value: missing.join("\n") });
      return { ...event, ...(attachments.length === 0 ? {} : { attachments }), custom };
    });
  }

  manifest(): Record<string, unknown> {
    const participants = [...this.#participants].sort();
    const custodian = this.#self !== undefined && this.#participants.has(this.#self) ? this.#self : undefined;
    return {
      version: RSMF_VERSION,
      participants: participants.map((id) => ({
        id,
        display: id,
        ...(id === UNKNOWN ? {} : { account_id: id }),
      })),
      conversations: [
        {
          id: this.#conversationId,
          display:
            this.#slice.chatType === "Group"
              ? `Group ${this.#conversationId}`
              : this.#conversationId.replace("|", " ↔ "),
          platform: PLATFORM,
          type: this.#slice.chatType === "Group" ? "channel" : "direct",
          participants,
          ...(custodian === undefined ? {} : { custodian }),
          custom: [
            { name: "Chat type", value: this.#slice.chatType },
            { name: "Day (Beijing)", value: this.#slice.dt },
          ],
        },
      ],
      events: this.events,
    };
  }

  /** One name in rsmf.zip per distinct medium of the slice, unique: `{n}-{file name}`. */
  #attachmentName(media: ExportMedia): string {
    let name = this.#byUrl.get(media.key!);
    if (name === undefined) {
      const base =
        displayName(media)
          .replace(/[^\p{L}\p{N}._-]/gu, "_")
          .slice(-80) || "file";
      name = `${String(this.attachments.length + 1).padStart(5, "0")}-${base}`;
      this.#byUrl.set(media.key!, name);
      this.attachments.push({ name, media });
    }
    return name;
  }
}

function displayName(media: ExportMedia): string {
  const last = media.key!.split("/").at(-1) ?? "file";
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}
