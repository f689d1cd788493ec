import { type ChatType, DEFAULTS, LIMITS, type MsgTime } from "@imvault/im-core";
import { Command, CommanderError, Option } from "commander";
import cliPackage from "../package.json" with { type: "json" };
import { chatTypeArg, msgTimeArg, positiveIntArg } from "./args.ts";
import type { ArchiveOptions } from "./commands/archive.ts";
import { DEFAULT_ARCHIVE_CONCURRENCY, DEFAULT_MEDIA_HOUR_CONCURRENCY } from "./commands/archive-defaults.ts";
import type { IndexOptions } from "./commands/index.ts";
import type { MediaOptions } from "./commands/media.ts";
import type { QueryOptions, SearchOptions } from "./commands/query.ts";
import type { SigOptions } from "./commands/sig.ts";
import type { StatusOptions } from "./commands/status.ts";
import type { VerifyOptions } from "./commands/verify.ts";
import { addEvidenceCommands, type EvidenceActions } from "./evidence-program.ts";
import { describeError, EXIT, exitCodeFor } from "./exit-codes.ts";
import { addExportCommands, type ExportActions } from "./export-program.ts";
import { ROW_FORMATS, type RowFormat } from "./rows-output.ts";
import type { Terminal } from "./terminal.ts";

/** What each command does once its arguments are parsed; main.ts wires the real ones, tests fakes. */
export interface Actions extends EvidenceActions, ExportActions {
  dev(): Promise<number>;
  archive(options: ArchiveOptions): Promise<number>;
  media(options: MediaOptions): Promise<number>;
  status(options: StatusOptions): Promise<number>;
  verify(options: VerifyOptions): Promise<number>;
  sig(urls: string[], options: SigOptions): Promise<number>;
  index(options: IndexOptions): Promise<number>;
  query(sql: string, options: QueryOptions): Promise<number>;
  search(options: SearchOptions): Promise<number>;
}

const MAX_SEARCH_ROWS = 10_000_000;

const formatOption = () =>
  new Option(
    "--format <format>",
    "table (default on a terminal), json, ndjson (default otherwise) or csv",
  ).choices(ROW_FORMATS);

const MAX_CONCURRENCY = 32;

/** The help's settings lines, with the defaults the settings loader uses (README "Configuration"). */
export function environmentHelp(): string {
  const d = DEFAULTS;
  return (
    `Environment: IM_SDKAPPID, IM_SECRET_KEY, IM_ADMIN (${d.admin}), IM_REGION (${d.region}) | IM_BASE_URL,\n` +
    `DATA_DIR (${d.dataDir}), PORT (${d.port}), API_KEYS, LOOKBACK_HOURS (${d.lookbackHours}), ` +
    `IM_RATE_LIMIT (${d.ratePerSecond}), SETTLE_HOURS (${d.settleHours}),\n` +
    `IM_RETENTION_DAYS (${d.retentionDays}), IM_MEDIA_RETENTION_DAYS (${d.mediaRetentionDays}), IM_MEDIA_CONCURRENCY (${d.mediaConcurrency});\n` +
    `the rest in README "Configuration". Set DEBUG=1 for stack traces.`
  );
}

export function createProgram(
  actions: Actions,
  terminal: Terminal,
  setExit: (code: number) => void,
): Command {
  const program = new Command("imvault")
    .description("Archive Tencent Cloud IM chat history, verified, and look up signed URLs for its media.")
    .version(cliPackage.version)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => terminal.out(text.replace(/\n$/, "")),
      writeErr: (text) => terminal.err(text.replace(/\n$/, "")),
    })
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText(
      "after",
      `\n${environmentHelp()}\n` +
        "Exit codes: 0 ok, 1 failure (an hour or its media), 2 usage or configuration, 3 hours still pending,\n4 verify checked " +
        "nothing, 130 interrupted.",
    );

  program
    .command("dev")
    .description(
      "run the whole system on this machine: scheduler, queue worker and API on 127.0.0.1:$PORT, " +
        "against Tencent IM when IM_SDKAPPID/IM_SECRET_KEY are set, else the bundled simulator",
    )
    .action(async () => setExit(await actions.dev()));

  program
    .command("archive")
    .description(
      "archive a window of Beijing hours now (default: the scheduler's window, the last LOOKBACK_HOURS ended hours)",
    )
    .option("--from <YYYYMMDDHH>", "first hour, Beijing time (inclusive)", msgTimeArg)
    .option("--to <YYYYMMDDHH>", "last hour, Beijing time (inclusive)", msgTimeArg)
    .addOption(new Option("--chat-type <type>", "only this chat type (default: both)").argParser(chatTypeArg))
    .option(
      "--concurrency <n>",
      `hours archived at once (1-${MAX_CONCURRENCY})`,
      positiveIntArg(MAX_CONCURRENCY),
      DEFAULT_ARCHIVE_CONCURRENCY,
    )
    .option(
      "--force",
      "archive even a window wholly older than Tencent's retention (IM_RETENTION_DAYS) or reaching an hour that has not ended",
    )
    .option(
      "--no-index",
      "do not write the message table of the hours archived (`imvault index` does it later)",
    )
    .option("--no-media", "archive the history only; `imvault media` captures the media later")
    .action(
      async (o: {
        from?: MsgTime;
        to?: MsgTime;
        chatType?: ChatType;
        concurrency: number;
        force?: true;
        index: boolean;
        media: boolean;
      }) => {
        setExit(
          await actions.archive({
            ...(o.from === undefined ? {} : { from: o.from }),
            ...(o.to === undefined ? {} : { to: o.to }),
            ...(o.chatType === undefined ? {} : { chatType: o.chatType }),
            concurrency: o.concurrency,
            ...(o.force === true ? { force: true } : {}),
            ...(o.index ? {} : { index: false }),
            ...(o.media ? {} : { media: false }),
          }),
        );
      },
    );

  program
    .command("media")
    .description(
      "capture (or try again) the media of hours already archived whose media are not captured yet " +
        "(default window: the last IM_MEDIA_RETENTION_DAYS days of ended hours)",
    )
    .option("--from <YYYYMMDDHH>", "first hour, Beijing time (inclusive)", msgTimeArg)
    .option("--to <YYYYMMDDHH>", "last hour, Beijing time (inclusive)", msgTimeArg)
    .addOption(new Option("--chat-type <type>", "only this chat type (default: both)").argParser(chatTypeArg))
    .option(
      "--concurrency <n>",
      `hours captured at once (1-${MAX_CONCURRENCY}), each with IM_MEDIA_CONCURRENCY downloads`,
      positiveIntArg(MAX_CONCURRENCY),
      DEFAULT_MEDIA_HOUR_CONCURRENCY,
    )
    .action(async (o: { from?: MsgTime; to?: MsgTime; chatType?: ChatType; concurrency: number }) => {
      setExit(
        await actions.media({
          ...(o.from === undefined ? {} : { from: o.from }),
          ...(o.to === undefined ? {} : { to: o.to }),
          ...(o.chatType === undefined ? {} : { chatType: o.chatType }),
          concurrency: o.concurrency,
        }),
      );
    });

  program
    .command("status")
    .description(
      "per hour and chat type: archived / empty / expired / missing / corrupt, and each archived hour's media, with totals",
    )
    .option(
      "--hours <n>",
      "how many ended hours to show (default LOOKBACK_HOURS)",
      positiveIntArg(LIMITS.maxWindowHours),
    )
    .option("--json", "print what GET /v1/status answers", false)
    .action(async (o: { hours?: number; json: boolean }) =>
      setExit(await actions.status({ ...(o.hours === undefined ? {} : { hours: o.hours }), json: o.json })),
    );

  program
    .command("verify")
    .description(
      "check the chain of signed digests from its head back (each digest and each object it seals valid, " +
        "modified, missing or moved) and re-hash every stored file (against its digest's SHA-256, or its " +
        "manifest until a digest seals it); exit 1 naming each problem, 4 when there was nothing to check",
    )
    .option(
      "--prefix <prefix>",
      "only manifests under this prefix, e.g. chat_type=C2C/dt=2024-05-01/ (manifests/ is added when missing)",
    )
    .option("--from <YYYYMMDDHH>", "only digests sealed from this Beijing hour on", msgTimeArg)
    .option("--to <YYYYMMDDHH>", "only digests sealed up to this Beijing hour (inclusive)", msgTimeArg)
    .option("--public-key <file>", "the PEM public key (`imvault key export`) to check the signatures with")
    .option("--deep", "also re-check sealed files against their manifest's sizes and MD5s")
    .option("--verbose", "a line for every valid digest and object too")
    .action(
      async (o: {
        prefix?: string;
        from?: MsgTime;
        to?: MsgTime;
        publicKey?: string;
        deep?: true;
        verbose?: true;
      }) =>
        setExit(
          await actions.verify({
            ...(o.prefix === undefined ? {} : { prefix: manifestPrefix(o.prefix) }),
            ...(o.from === undefined ? {} : { from: o.from }),
            ...(o.to === undefined ? {} : { to: o.to }),
            ...(o.publicKey === undefined ? {} : { publicKey: o.publicKey }),
            ...(o.deep === true ? { deep: true } : {}),
            ...(o.verbose === true ? { verbose: true } : {}),
          }),
        ),
    );

  program
    .command("sig")
    .description("FULL_CONTROL signed URLs for rich-media URLs (get_cos_sig), e.g. to review banned media")
    .argument("<url...>", "COS media URLs from the chat history (https, *.myqcloud.com or COS_URL_HOSTS)")
    .option("--json", "print the API's JSON answer instead of a table", false)
    .action(async (urls: string[], o: { json: boolean }) =>
      setExit(await actions.sig(urls, { json: o.json })),
    );

  program
    .command("index")
    .description(
      "write the message table (tables/messages/…, Parquet) for the archived hours of a window (default: the scheduler's window)",
    )
    .option("--from <YYYYMMDDHH>", "first hour, Beijing time (inclusive)", msgTimeArg)
    .option("--to <YYYYMMDDHH>", "last hour, Beijing time (inclusive)", msgTimeArg)
    .addOption(new Option("--chat-type <type>", "only this chat type (default: both)").argParser(chatTypeArg))
    .option("--rebuild", "write every table file again, even those made from the same raw bytes", false)
    .action(async (o: { from?: MsgTime; to?: MsgTime; chatType?: ChatType; rebuild: boolean }) =>
      setExit(
        await actions.index({
          ...(o.from === undefined ? {} : { from: o.from }),
          ...(o.to === undefined ? {} : { to: o.to }),
          ...(o.chatType === undefined ? {} : { chatType: o.chatType }),
          rebuild: o.rebuild,
        }),
      ),
    );

  program
    .command("query")
    .description(
      "run one read-only SQL statement over the `messages` table (DuckDB, the Parquet files under DATA_DIR)",
    )
    .argument("<sql>", "a single SELECT (or WITH … SELECT, DESCRIBE, SHOW); anything else is refused")
    .addOption(formatOption())
    .action(async (sql: string, o: { format?: RowFormat }) =>
      setExit(await actions.query(sql, o.format === undefined ? {} : { format: o.format })),
    );

  program
    .command("search")
    .description("messages matching every filter given, oldest first, with every column of the table")
    .option("--user <account>", "messages this account sent or received")
    .option("--peer <account>", "with --user: only their one-to-one conversation with this account")
    .option("--group <id>", "messages of this group")
    .option("--text <text>", "text containing this, as is (no stemming: fine for Chinese, Japanese, Korean)")
    .option("--type <MsgType>", "messages holding an element of this type, e.g. TIMImageElem")
    .option("--from <YYYYMMDDHH>", "first hour, Beijing time (inclusive)", msgTimeArg)
    .option("--to <YYYYMMDDHH>", "last hour, Beijing time (inclusive)", msgTimeArg)
    .option("--limit <n>", "at most this many rows (default: all)", positiveIntArg(MAX_SEARCH_ROWS))
    .addOption(formatOption())
    .action(async (o: SearchOptions) => {
      const given = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as SearchOptions;
      setExit(await actions.search(given));
    });

  addEvidenceCommands(program, actions, setExit);
  addExportCommands(program, actions, setExit);
  return program;
}

/** `chat_type=C2C/` → `manifests/chat_type=C2C/`: verify walks manifests. */
export function manifestPrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+/, "");
  return trimmed.startsWith("manifests/") ? trimmed : `manifests/${trimmed}`;
}

/** Parses and runs one command line; answers the exit code. Errors become one line on stderr. */
export async function runCli(argv: readonly string[], actions: Actions, terminal: Terminal): Promise<number> {
  let code: number = EXIT.ok;
  const program = createProgram(actions, terminal, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed the message (or the help, or the version) already. Help and the version
      // end with exit code 0 however they were asked for (`archive --help`, `help archive`, `-V`).
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    terminal.err(`imvault: ${describeError(error, terminal.debug)}`);
    return exitCodeFor(error);
  }
  return code;
}
