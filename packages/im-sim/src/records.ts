import type { Command, DownloadTarget, FaultKind } from "./faults.ts";

/** What the simulator saw of one REST call. The usersig is never recorded. */
export interface SeenRequest {
  seq: number;
  /** Simulator clock, ms. */
  at: number;
  method: string;
  /** Path without the query string. */
  path: string;
  command: Command | undefined;
  sdkappid: string | null;
  identifier: string | null;
  random: string | null;
  contenttype: string | null;
  /** The body as JSON when it parsed, else its text (at most 64 KiB). */
  body: unknown;
  httpStatus: number;
  /** ErrorCode answered (absent for HTTP-level faults). */
  code: number | undefined;
  errorInfo: string | undefined;
  requestId: string | undefined;
  fault: FaultKind | undefined;
  /** Why a 1004 was answered: the hour's files are not produced yet, or it had no messages. */
  reason?: "not-ready" | "empty";
}

/** What the simulator saw and sent for one download (history file or media). */
export interface SeenDownload {
  seq: number;
  at: number;
  target: "history" | "media" | "unknown";
  method: string;
  /** Path without the query string. */
  path: string;
  chatType: string | undefined;
  msgTime: string | undefined;
  fileIndex: number | undefined;
  status: number;
  range: string | undefined;
  /** Bytes the body should have had. */
  bytesExpected: number;
  bytesSent: number;
  /** The whole body went out and the response finished. */
  complete: boolean;
  /** The response is over (finished or cut off). */
  ended: boolean;
  fault: FaultKind | undefined;
}

export type { DownloadTarget };

/** Appends to a live array, dropping the oldest entries beyond `max`. */
export function remember<T>(list: T[], item: T, max: number): T {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
  return item;
}
