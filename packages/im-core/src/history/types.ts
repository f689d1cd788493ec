/** Shapes of a Tencent IM history file (get_history, §3.11) as the parser hands them out. */

/** One element of a message body. Every field Tencent sent is kept. */
export interface MsgElem {
  MsgType?: string;
  MsgContent?: unknown;
  [k: string]: unknown;
}

/** The first line of a file, without its (empty) `MsgList`. Unknown fields are kept. */
export interface HistoryHeader {
  SdkAppId: number;
  ChatType: string;
  MsgTime: string;
  [k: string]: unknown;
}

/**
 * One message line. From_Account, To_Account (C2C) or GroupId (Group), MsgTimestamp, MsgSeq, MsgRandom
 * are usual but not checked; MsgBody, when present, is an array. Unknown fields are kept.
 */
export interface HistoryMessage {
  MsgBody?: MsgElem[];
  [k: string]: unknown;
}

export type HistoryEvent =
  | { kind: "header"; header: HistoryHeader }
  /**
   * `line` is the message's 1-based line in the file (the header is line 1); `raw` the message's JSON
   * text as the line holds it, without surrounding blanks and its trailing comma; `rawBytes` the same
   * text as the file's bytes (a view of the chunk pushed: valid until the next push).
   */
  | { kind: "message"; message: HistoryMessage; line: number; raw: string; rawBytes: Buffer };

/** What a complete, well-formed file held. */
export interface HistorySummary {
  header: HistoryHeader;
  messageCount: number;
  /** Lines from the header to the closing `]}` inclusive. */
  lines: number;
}
