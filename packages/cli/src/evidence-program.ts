import type { ChatType, MsgTime } from "@imvault/im-core";
import { type Command, Option } from "commander";
import { chatTypeArg, msgTimeArg } from "./args.ts";
import type { HoldAddOptions } from "./commands/hold.ts";
import type { KeyExportOptions } from "./commands/key.ts";

/**
 * The evidence commands (docs/evidence.md): `key export` and `hold add|list|release`, registered on
 * the program by createProgram. Kept apart from program.ts so that the core commands stay readable.
 */
export interface EvidenceActions {
  keyExport(options: KeyExportOptions): Promise<number>;
  holdAdd(options: HoldAddOptions): Promise<number>;
  holdList(options: { json: boolean }): Promise<number>;
  holdRelease(id: string, options: { reason?: string }): Promise<number>;
}

export function addEvidenceCommands(
  program: Command,
  actions: EvidenceActions,
  setExit: (code: number) => void,
): void {
  const key = program
    .command("key")
    .description("the key that signs the digests: `imvault key export` writes its public half");
  key
    .command("export")
    .description(
      "write the public key (PEM) that checks the digests' signatures, and its fingerprint; on a bucket, the KMS key's (DIGEST_KMS_KEY_ID)",
    )
    .option("--out <file>", "write the PEM to this file instead of stdout")
    .action(async (o: { out?: string }) =>
      setExit(await actions.keyExport(o.out === undefined ? {} : { out: o.out })),
    );

  const hold = program
    .command("hold")
    .description(
      "legal holds: keep everything archived of a window, a user or a group from deletion until released, recorded in the chain",
    );
  hold
    .command("add")
    .description(
      "place a legal hold on everything archived of a window (manifests, raw files, media, table files), " +
        "or on what holds a user's or group's messages (through the message table, DATA_DIR only)",
    )
    .option("--from <YYYYMMDDHH>", "first hour, Beijing time (inclusive)", msgTimeArg)
    .option("--to <YYYYMMDDHH>", "last hour, Beijing time (inclusive)", msgTimeArg)
    .option("--user <account>", "the messages this account sent or received (within --from/--to if given)")
    .option("--group <GroupId>", "the messages of this group (within --from/--to if given)")
    .addOption(new Option("--chat-type <type>", "only this chat type (default: both)").argParser(chatTypeArg))
    .option("--reason <text>", "why (a case or matter number), kept in the hold's record")
    .action(async function (
      this: Command,
      o: {
        from?: MsgTime;
        to?: MsgTime;
        user?: string;
        group?: string;
        chatType?: ChatType;
        reason?: string;
      },
    ) {
      if (o.user !== undefined && o.group !== undefined)
        this.error("error: give --user or --group, not both");
      if (o.user === undefined && o.group === undefined && (o.from === undefined || o.to === undefined)) {
        this.error("error: hold add needs --from and --to (a window), or --user or --group");
      }
      const given = Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined));
      setExit(await actions.holdAdd(given as HoldAddOptions));
    });
  hold
    .command("list")
    .description("every legal hold, active first")
    .option("--json", "as JSON", false)
    .action(async (o: { json: boolean }) => setExit(await actions.holdList({ json: o.json })));
  hold
    .command("release")
    .description("lift a hold (from what no other active hold keeps), recorded in the chain")
    .argument("<id>", "the hold's id, as `imvault hold list` shows it")
    .option("--reason <text>", "why, kept in the release's record")
    .action(async (id: string, o: { reason?: string }) =>
      setExit(await actions.holdRelease(id, o.reason === undefined ? {} : { reason: o.reason })),
    );
}
