/** What every export format's writer is given and does, one slice at a time. */
import type { ChatType } from "../../im/types.ts";
import type { ExportMedia, MediaResolver } from "../media.ts";
import type { ExportDir } from "../output.ts";
import type { ExportRequest } from "../request.ts";
import type { ExportRow } from "../source.ts";

/** One conversation on one Beijing day (or one part of it, past the events limit). */
export interface Slice {
  /** The slice's file name without extension. */
  name: string;
  dt: string;
  chatType: ChatType;
  conversation: string | null;
  /** 1-based; `parts` is 1 unless the day's conversation was split. */
  part: number;
  parts: number;
}

export interface SliceMessage {
  row: ExportRow;
  /** The message's instant (ms): its MsgTimestamp, else the start of its hour. */
  at: number;
  media: ExportMedia[];
}

export interface WriterContext {
  dir: ExportDir;
  media: MediaResolver;
  request: ExportRequest;
  /** Who made it, for the RSMF header: "imvault 0.1.0". */
  generator: string;
  /** Media bytes copied into the export (progress). */
  onBytes(n: number): void;
}

export interface SliceWriter {
  begin(slice: Slice): Promise<void>;
  message(message: SliceMessage): Promise<void>;
  /** Ends the slice; answers the file written for it. */
  end(): Promise<string>;
  /** After the last slice: anything besides the slices (the HTML index). */
  finish(slices: readonly { slice: Slice; file: string; messages: number }[]): Promise<void>;
}

export const SLICES_DIR = "conversations";
