import { join } from "node:path";
import {
  CHAT_TYPES,
  type ChatType,
  ConfigError,
  type FindMessages,
  type HoldScope,
  type HoldSummary,
  hourStart,
  listHolds,
  type MsgTime,
  placeHold,
  releaseHold,
  TABLE_PREFIX,
  ValidationError,
} from "@imvault/im-core";
import { loadStoreConfig } from "@imvault/runtime";
import { cliStore } from "../deps.ts";
import { EXIT, type ExitCode } from "../exit-codes.ts";
import { plainTable, renderTable } from "../table.ts";
import { type Terminal, terminalLogger } from "../terminal.ts";
import { sealAfterCommit } from "./seal-after.ts";

export interface HoldAddOptions {
  from?: MsgTime;
  to?: MsgTime;
  user?: string;
  group?: string;
  chatType?: ChatType;
  reason?: string;
}

/** The scope `hold add`'s options name: a window, or a user's or group's messages (within one, if given). */
export function holdScopeOf(options: HoldAddOptions): HoldScope {
  const { from, to, user, group, chatType } = options;
  if (from !== undefined && to !== undefined && hourStart(from) > hourStart(to)) {
    throw new ValidationError(`--from ${from} is after --to ${to}`);
  }
  if (user !== undefined && group !== undefined)
    throw new ValidationError("give --user or --group, not both");
  const chatTypes = chatType === undefined ? [...CHAT_TYPES] : [chatType];
  const window = { ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) };
  if (user !== undefined) return { kind: "user", user, ...window, chatTypes };
  if (group !== undefined) {
    if (chatType === "C2C") throw new ValidationError("--group holds Group messages: drop --chat-type C2C");
    return { kind: "group", group, ...window };
  }
  if (from === undefined || to === undefined) {
    throw new ValidationError("hold add needs --from and --to (a window), or --user or --group");
  }
  return { kind: "window", from, to, chatTypes };
}

/** How a scope reads in the CLI's output. */
export function scopeText(scope: HoldScope): string {
  const hours =
    scope.from === undefined && scope.to === undefined ? "" : `${scope.from ?? "…"}..${scope.to ?? "…"}`;
  switch (scope.kind) {
    case "window":
      return hours;
    case "user":
      return `user ${scope.user}${hours === "" ? "" : `, ${hours}`}`;
    case "group":
      return `group ${scope.group}${hours === "" ? "" : `, ${hours}`}`;
  }
}

/**
 * Reads DATA_DIR's message table for a hold by user or group. A bucket's table is Athena's, which the
 * CLI does not query (as `imvault search`): there a hold covers a window.
 */
async function tableFinder(): Promise<FindMessages> {
  const config = loadStoreConfig();
  if (config.kind !== "local") {
    throw new ConfigError(
      "ARCHIVE_BUCKET",
      "is set: a hold by --user or --group reads the message table under DATA_DIR; on a bucket, hold the window (--from --to)",
    );
  }
  const { MessageTable } = await import("@imvault/im-core/duckdb");
  const table = await MessageTable.open(join(config.dataDir, TABLE_PREFIX));
  return async function* (statement) {
    yield* (await table.query(statement)).batches;
  };
}

/**
 * `imvault hold add (--from --to | --user U | --group G [--from] [--to]) [--chat-type] [--reason]`: a
 * legal hold on everything archived of the window (manifests, raw files, media manifests and media,
 * table files), or on what holds a user's or group's messages (found through the message table: the
 * raw files, their table files, their hours' manifests, the media those messages name). On S3 each
 * object version gets a legal hold (s3:PutObjectLegalHold); on a DATA_DIR imvault refuses to delete
 * or replace them. The hold is recorded under holds/ and sealed into the chain (here on a DATA_DIR, by
 * the scheduler's next digest on a bucket).
 */
export async function holdAddCommand(options: HoldAddOptions, terminal: Terminal): Promise<ExitCode> {
  const scope = holdScopeOf(options);
  const findMessages = scope.kind === "window" ? undefined : await tableFinder();
  const store = await cliStore({ forWriting: true });
  const record = await placeHold(
    store,
    scope,
    { ...(options.reason === undefined ? {} : { reason: options.reason }), now: Date.now() },
    { findMessages },
  );
  terminal.out(
    `placed hold ${record.id} on ${record.keys.length} object(s) of ${scopeText(scope)} (${chatTypesOf(scope).join(" + ")})`,
  );
  terminal.out(await sealAfterCommit(store, terminalLogger(terminal)));
  return EXIT.ok;
}

/** `imvault hold release ID [--reason]`: lifts the hold from what no other hold keeps, recorded. */
export async function holdReleaseCommand(
  id: string,
  options: { reason?: string },
  terminal: Terminal,
): Promise<ExitCode> {
  const store = await cliStore({ forWriting: true });
  const { record, keptByOthers } = await releaseHold(store, id, {
    ...(options.reason === undefined ? {} : { reason: options.reason }),
    now: Date.now(),
  });
  const kept = keptByOthers > 0 ? `; ${keptByOthers} stay held by other holds` : "";
  terminal.out(`released hold ${id}: ${record.keys.length} object(s) no longer held${kept}`);
  terminal.out(await sealAfterCommit(store, terminalLogger(terminal)));
  return EXIT.ok;
}

/** `imvault hold list [--json]`: every hold, active first. */
export async function holdListCommand(options: { json: boolean }, terminal: Terminal): Promise<ExitCode> {
  const holds = await listHolds(await cliStore());
  if (options.json) {
    terminal.out(JSON.stringify({ holds }, null, 2));
    return EXIT.ok;
  }
  if (holds.length === 0) {
    terminal.out("no legal holds");
    return EXIT.ok;
  }
  terminal.out(renderHolds(holds));
  return EXIT.ok;
}

export function renderHolds(holds: readonly HoldSummary[]): string {
  const table = plainTable({
    head: ["hold", "state", "scope (Beijing hours)", "chat types", "objects", "placed", "reason"],
  });
  const ordered = [
    ...holds.filter((h) => h.releasedAt === undefined),
    ...holds.filter((h) => h.releasedAt !== undefined),
  ];
  for (const h of ordered) {
    table.push([
      h.id,
      h.releasedAt === undefined ? "active" : `released ${h.releasedAt}`,
      scopeText(h.scope),
      chatTypesOf(h.scope).join(" + "),
      String(h.keys),
      h.placedAt,
      h.reason ?? "",
    ]);
  }
  return renderTable(table);
}

function chatTypesOf(scope: HoldScope): readonly ChatType[] {
  return scope.kind === "group" ? ["Group"] : scope.chatTypes;
}
