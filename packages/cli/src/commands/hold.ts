import {
  CHAT_TYPES,
  type ChatType,
  type HoldSummary,
  hourStart,
  listHolds,
  type MsgTime,
  placeHold,
  releaseHold,
  ValidationError,
} from "@imvault/im-core";
import { cliStore } from "../deps.ts";
import { EXIT, type ExitCode } from "../exit-codes.ts";
import { plainTable, renderTable } from "../table.ts";
import { type Terminal, terminalLogger } from "../terminal.ts";
import { sealAfterCommit } from "./seal-after.ts";

export interface HoldAddOptions {
  from: MsgTime;
  to: MsgTime;
  chatType?: ChatType;
  reason?: string;
}

/**
 * `imvault hold add --from --to [--chat-type] [--reason]`: a legal hold on everything archived of the
 * window (manifests, raw files, media manifests and media, table files). On S3 each object version
 * gets a legal hold (s3:PutObjectLegalHold); on a DATA_DIR imvault refuses to delete or replace them.
 * The hold is recorded under holds/ and sealed into the chain (here on a DATA_DIR, by the scheduler's
 * next digest on a bucket).
 */
export async function holdAddCommand(options: HoldAddOptions, terminal: Terminal): Promise<ExitCode> {
  if (hourStart(options.from) > hourStart(options.to)) {
    throw new ValidationError(`--from ${options.from} is after --to ${options.to}`);
  }
  const store = await cliStore({ forWriting: true });
  const chatTypes = options.chatType === undefined ? [...CHAT_TYPES] : [options.chatType];
  const record = await placeHold(
    store,
    { kind: "window", from: options.from, to: options.to, chatTypes },
    { ...(options.reason === undefined ? {} : { reason: options.reason }), now: Date.now() },
  );
  terminal.out(
    `placed hold ${record.id} on ${record.keys.length} object(s) of ${options.from}..${options.to} (${chatTypes.join(" + ")})`,
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
    head: ["hold", "state", "window (Beijing)", "chat types", "objects", "placed", "reason"],
  });
  const ordered = [
    ...holds.filter((h) => h.releasedAt === undefined),
    ...holds.filter((h) => h.releasedAt !== undefined),
  ];
  for (const h of ordered) {
    table.push([
      h.id,
      h.releasedAt === undefined ? "active" : `released ${h.releasedAt}`,
      `${h.scope.from}..${h.scope.to}`,
      h.scope.chatTypes.join(" + "),
      String(h.keys),
      h.placedAt,
      h.reason ?? "",
    ]);
  }
  return renderTable(table);
}
