import { type Command, Option } from "commander";
import { msgTimeArg } from "./args.ts";
import type { ExportCommandOptions } from "./commands/export.ts";

/**
 * `imvault export` and `imvault export verify` (docs/export.md), registered on the program by
 * createProgram; kept apart from program.ts like the evidence commands.
 */
export interface ExportActions {
  exportRun(options: ExportCommandOptions): Promise<number>;
  exportVerify(dir: string, options: { json: boolean }): Promise<number>;
}

export function addExportCommands(
  program: Command,
  actions: ExportActions,
  setExit: (code: number) => void,
): void {
  const command = program
    .command("export")
    .description(
      "export a user's, a group's or a conversation's messages with their media for review (rsmf, html or jsonl), " +
        "one file per conversation and Beijing day, with export-manifest.json; `export verify DIR` checks one",
    )
    .option("--user <account>", "every message this account sent or received")
    .option("--group <id>", "every message of this group")
    .option(
      "--conversation <id>",
      "one conversation: `a|b` (one-to-one, as the table spells it) or a group id",
    )
    .option("--from <YYYYMMDDHH>", "first hour, Beijing time (inclusive)", msgTimeArg)
    .option("--to <YYYYMMDDHH>", "last hour, Beijing time (inclusive)", msgTimeArg)
    .addOption(
      new Option(
        "--format <format>",
        "rsmf (Relativity), html (a page per slice) or jsonl (as Tencent sent them)",
      ).choices(["rsmf", "html", "jsonl"]),
    )
    // Checked by the command (not required here: `export verify` would inherit the requirement).
    .option("--out <dir>", "a new directory to write the export into (made whole at the end)")
    .action(async (o: ExportCommandOptions) => {
      const given = Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined));
      setExit(await actions.exportRun(given as ExportCommandOptions));
    });
  command
    .command("verify")
    .description(
      "check an export against its export-manifest.json: every file there, unchanged, nothing added",
    )
    .argument("<dir>", "the export's directory")
    .option("--json", "print the result as JSON", false)
    .action(async (dir: string, o: { json: boolean }) =>
      setExit(await actions.exportVerify(dir, { json: o.json })),
    );
}
