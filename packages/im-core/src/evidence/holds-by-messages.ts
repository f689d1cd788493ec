import * as v from "valibot";
import { manifestKey } from "../archive/layout.ts";
import { ValidationError } from "../errors.ts";
import type { ChatType } from "../im/types.ts";
import { mediaManifestKey } from "../media/layout.ts";
import { mediaManifestSchema } from "../media/manifest.ts";
import type { HoldScope } from "../schemas/hold.ts";
import type { ArchiveStore } from "../store/port.ts";
import { tableKeyOf } from "../table/index-hour.ts";
import { buildSearchSql, type MessageSearch, type SqlStatement } from "../table/search-sql.ts";
import type { MsgTime } from "../time/msgtime.ts";
import { readStored } from "./object-hash.ts";

/**
 * Holds by user or group: the message table (tables/messages) says which messages are the account's
 * or the group's; the hold covers what holds those messages: each raw file one of them comes from,
 * its table file and its hour's manifest, and of that hour's media manifest the media those messages
 * name that were captured (and the media manifest itself).
 */

/** Runs a table query for a hold (DuckDB over DATA_DIR's table; see heldMessagesSql) and gives its rows. */
export type FindMessages = (statement: SqlStatement) => AsyncIterable<Record<string, unknown>[]>;

type MessageScope = Exclude<HoldScope, { kind: "window" }>;

/** The search a user or group scope stands for. */
export function scopeSearch(scope: MessageScope): MessageSearch {
  const who = scope.kind === "user" ? { user: scope.user } : { group: scope.group };
  return {
    ...who,
    ...(scope.from === undefined ? {} : { from: scope.from }),
    ...(scope.to === undefined ? {} : { to: scope.to }),
  };
}

/**
 * The statement that finds a scope's messages, only the columns a hold needs: the search's own SQL
 * (every value a parameter) as a subquery, so that the engine reads no other column of the table.
 */
export function heldMessagesSql(scope: MessageScope): SqlStatement {
  const search = buildSearchSql(scopeSearch(scope), { dialect: "duckdb" });
  return {
    sql: `SELECT DISTINCT s.chat_type, s.msg_time, s.source_key, s.media_urls FROM (${search.sql}) AS s`,
    params: search.params,
  };
}

const heldRow = v.object({
  chat_type: v.picklist(["C2C", "Group"]),
  msg_time: v.pipe(v.string(), v.regex(/^\d{10}$/)),
  source_key: v.pipe(v.string(), v.startsWith("raw/")),
  media_urls: v.nullish(v.array(v.string())),
});

/** Every stored key a user or group scope covers (see the comment above). */
export async function messageHoldKeys(
  store: ArchiveStore,
  scope: MessageScope,
  findMessages: FindMessages | undefined,
): Promise<Set<string>> {
  if (findMessages === undefined) {
    throw new ValidationError(
      `a hold by ${scope.kind} reads the message table, which is not readable here: hold a window instead`,
    );
  }
  const chatTypes: readonly ChatType[] = scope.kind === "user" ? scope.chatTypes : ["Group"];
  /** Per hour (chat type and MsgTime): its raw files and the media URLs its matching messages name. */
  const hours = new Map<
    string,
    { chatType: ChatType; msgTime: MsgTime; raw: Set<string>; urls: Set<string> }
  >();
  for await (const rows of findMessages(heldMessagesSql(scope))) {
    for (const row of rows) {
      const parsed = v.safeParse(heldRow, row);
      if (!parsed.success)
        throw new ValidationError("the message table answered a row a hold cannot use", { row });
      const m = parsed.output;
      if (!chatTypes.includes(m.chat_type)) continue;
      const id = `${m.chat_type}/${m.msg_time}`;
      let hour = hours.get(id);
      if (hour === undefined) {
        hour = { chatType: m.chat_type, msgTime: m.msg_time as MsgTime, raw: new Set(), urls: new Set() };
        hours.set(id, hour);
      }
      hour.raw.add(m.source_key);
      for (const url of m.media_urls ?? []) hour.urls.add(url);
    }
  }
  const keys = new Set<string>();
  const addIfStored = async (key: string) => {
    if ((await store.head(key)) !== undefined) keys.add(key);
  };
  for (const hour of hours.values()) {
    await addIfStored(manifestKey(hour.chatType, hour.msgTime));
    for (const raw of hour.raw) {
      await addIfStored(raw);
      await addIfStored(tableKeyOf(raw));
    }
    if (hour.urls.size > 0) {
      for (const key of await capturedMediaOf(
        store,
        mediaManifestKey(hour.chatType, hour.msgTime),
        hour.urls,
      ))
        keys.add(key);
    }
  }
  return keys;
}

/** The media manifest (if any) and the media it captured of `urls`. */
async function capturedMediaOf(store: ArchiveStore, key: string, urls: Set<string>): Promise<string[]> {
  const bytes = await readStored(store, key);
  if (bytes === undefined) return [];
  try {
    const parsed = v.safeParse(mediaManifestSchema, JSON.parse(bytes.toString("utf8")));
    if (!parsed.success) return [key];
    const media = parsed.output.items.flatMap((item) =>
      item.status === "captured" && urls.has(item.rawUrl) ? [item.key] : [],
    );
    return [key, ...media];
  } catch {
    return [key];
  }
}
