/**
 * Where an export's messages come from: the message table, read through a port so that im-core's
 * export does not load DuckDB (the `@imvault/im-core/duckdb` entry has the adapter, duckdb-source.ts).
 */
import type { ChatType } from "../im/types.ts";
import type { MessageRow } from "../table/rows.ts";
import type { MsgTime } from "../time/msgtime.ts";

/** The columns an export reads of a row. */
export type ExportRow = Pick<
  MessageRow,
  | "chat_type"
  | "msg_time"
  | "dt"
  | "msg_timestamp"
  | "from_account"
  | "to_account"
  | "group_id"
  | "conversation"
  | "msg_seq"
  | "msg_random"
  | "msg_types"
  | "text"
  | "media_urls"
  | "raw"
  | "source_key"
  | "line"
>;

/** How many of the selected rows fall in one conversation on one Beijing day. */
export interface SliceCount {
  dt: string;
  chatType: ChatType;
  conversation: string | null;
  messages: number;
}

export interface ExportSource {
  /** The first and last hour the table holds, or undefined when it holds nothing. */
  extent(): Promise<{ first: MsgTime; last: MsgTime } | undefined>;
  /** The selected rows counted per day and conversation (in `rows` order). */
  counts(): Promise<SliceCount[]>;
  /**
   * The selected rows in batches, ordered by day, conversation, chat type, then as the table orders
   * them (hour, raw file, line), so that each slice's rows come together.
   */
  rows(): AsyncIterable<ExportRow[]>;
}
