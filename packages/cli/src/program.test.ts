import { ConfigError, ImApiError } from "@imvault/im-core";
import { describe, expect, it, vi } from "vitest";
import cliPackage from "../package.json" with { type: "json" };
import { EXIT } from "./exit-codes.ts";
import { type Actions, manifestPrefix, runCli } from "./program.ts";
import type { Terminal } from "./terminal.ts";

function fakeTerminal(debug = false): Terminal & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    out: (l) => stdout.push(l),
    outBytes: (b) => stdout.push(Buffer.from(b).toString("utf8")),
    err: (l) => stderr.push(l),
    interactive: false,
    debug,
  };
}

function fakeActions(overrides: Partial<Actions> = {}): Actions {
  return {
    dev: vi.fn(async () => 0),
    archive: vi.fn(async () => 0),
    media: vi.fn(async () => 0),
    status: vi.fn(async () => 0),
    verify: vi.fn(async () => 0),
    sig: vi.fn(async () => 0),
    index: vi.fn(async () => 0),
    query: vi.fn(async () => 0),
    search: vi.fn(async () => 0),
    keyExport: vi.fn(async () => 0),
    holdAdd: vi.fn(async () => 0),
    holdList: vi.fn(async () => 0),
    holdRelease: vi.fn(async () => 0),
    exportRun: vi.fn(async () => 0),
    exportVerify: vi.fn(async () => 0),
    ...overrides,
  };
}

describe("imvault command line parsing", () => {
  it("passes archive's window, canonical chat type and concurrency to the action", async () => {
    const actions = fakeActions();

    const code = await runCli(
      ["archive", "--from", "2024050100", "--to", "2024050123", "--chat-type", "group", "--concurrency", "8"],
      actions,
      fakeTerminal(),
    );

    expect(code).toBe(0);
    expect(actions.archive).toHaveBeenCalledWith({
      from: "2024050100",
      to: "2024050123",
      chatType: "Group",
      concurrency: 8,
    });
  });

  it("defaults archive to both chat types, the scheduler's window and 4 at a time", async () => {
    const actions = fakeActions();

    await runCli(["archive"], actions, fakeTerminal());

    expect(actions.archive).toHaveBeenCalledWith({ concurrency: 4 });
  });

  it("passes --no-media to archive, and media's window, chat type and concurrency to its action", async () => {
    const actions = fakeActions();

    await runCli(["archive", "--no-media"], actions, fakeTerminal());
    await runCli(
      ["media", "--from", "2024050100", "--to", "2024050101", "--chat-type", "c2c"],
      actions,
      fakeTerminal(),
    );
    await runCli(["media"], actions, fakeTerminal());

    expect(actions.archive).toHaveBeenCalledWith({ concurrency: 4, media: false });
    expect(vi.mocked(actions.media).mock.calls).toEqual([
      [{ from: "2024050100", to: "2024050101", chatType: "C2C", concurrency: 2 }],
      [{ concurrency: 2 }],
    ]);
  });

  it("returns the action's exit code", async () => {
    const code = await runCli(["verify"], fakeActions({ verify: async () => EXIT.failure }), fakeTerminal());
    expect(code).toBe(EXIT.failure);
  });

  it("exits 2 with commander's message for a bad option value, an unknown option or command, or a missing URL", async () => {
    for (const argv of [
      ["archive", "--from", "2024133100"],
      ["archive", "--chat-type", "Private"],
      ["archive", "--concurrency", "0"],
      ["status", "--hours", "x"],
      ["archive", "--frm", "2024010100"],
      ["archive-now"],
      ["media", "--to", "2024023024"],
      ["media", "--concurrency", "99"],
      ["sig"],
      [],
    ]) {
      const terminal = fakeTerminal();
      const actions = fakeActions();

      const code = await runCli(argv, actions, terminal);

      expect(code, argv.join(" ")).toBe(EXIT.usage);
      expect(terminal.stderr.join("\n"), argv.join(" ")).not.toBe("");
      expect(actions.archive).not.toHaveBeenCalled();
    }
  });

  it("exits 0 for --help", async () => {
    const terminal = fakeTerminal();
    expect(await runCli(["archive", "--help"], fakeActions(), terminal)).toBe(0);
    expect(terminal.stdout.join("\n")).toContain("--chat-type");
  });

  it("exits 0 for `help archive` too, printing the same help as `archive --help`", async () => {
    const viaFlag = fakeTerminal();
    const viaCommand = fakeTerminal();
    await runCli(["archive", "--help"], fakeActions(), viaFlag);

    const code = await runCli(["help", "archive"], fakeActions(), viaCommand);

    expect([code, viaCommand.stderr]).toEqual([0, []]);
    expect(viaCommand.stdout).toEqual(viaFlag.stdout);
  });

  it.each([["--version"], ["-V"]])("prints the package's version for %s and exits 0", async (flag) => {
    const terminal = fakeTerminal();

    const code = await runCli([flag], fakeActions(), terminal);

    expect([code, terminal.stdout]).toEqual([0, [cliPackage.version]]);
    expect(cliPackage.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("--help names the settings with the defaults the settings loader uses", async () => {
    const terminal = fakeTerminal();

    await runCli(["--help"], fakeActions(), terminal);

    const help = terminal.stdout.join("\n");
    for (const setting of [
      "IM_ADMIN (administrator)",
      "IM_REGION (cn)",
      "DATA_DIR (./data)",
      "PORT (3000)",
      "LOOKBACK_HOURS (72)",
      "IM_MEDIA_RETENTION_DAYS (7)",
      "IM_MEDIA_CONCURRENCY (16)",
      "IM_RATE_LIMIT (10)",
      "SETTLE_HOURS (6)",
      "IM_RETENTION_DAYS (7)",
    ]) {
      expect(help).toContain(setting);
    }
  });

  it("refuses status --hours beyond 31 days of hours", async () => {
    const actions = fakeActions();
    const terminal = fakeTerminal();

    expect(await runCli(["status", "--hours", "745"], actions, terminal)).toBe(EXIT.usage);
    expect(terminal.stderr.join("\n")).toContain("from 1 to 744");
    expect(actions.status).not.toHaveBeenCalled();
  });

  it("passes verify's chain options, key export's file and the hold commands' arguments", async () => {
    const actions = fakeActions();
    const run = (argv: string[]) => runCli(argv, actions, fakeTerminal());

    await run([
      "verify",
      "--from",
      "2024050100",
      "--to",
      "2024050123",
      "--public-key",
      "k.pem",
      "--deep",
      "--verbose",
    ]);
    await run(["key", "export", "--out", "k.pem"]);
    await run([
      "hold",
      "add",
      "--from",
      "2024050100",
      "--to",
      "2024050123",
      "--chat-type",
      "c2c",
      "--reason",
      "case 7",
    ]);
    await run(["hold", "list", "--json"]);
    await run(["hold", "release", "20240502T031500Z-a1b2c3", "--reason", "settled"]);
    const missing = await run(["hold", "add", "--from", "2024050100"]);
    await run(["hold", "add", "--user", "alice", "--to", "2024050123"]);
    await run(["hold", "add", "--group", "@TGS#1"]);
    const both = await run(["hold", "add", "--user", "alice", "--group", "@TGS#1"]);

    expect(actions.verify).toHaveBeenCalledWith({
      from: "2024050100",
      to: "2024050123",
      publicKey: "k.pem",
      deep: true,
      verbose: true,
    });
    expect(actions.keyExport).toHaveBeenCalledWith({ out: "k.pem" });
    expect(actions.holdAdd).toHaveBeenCalledWith({
      from: "2024050100",
      to: "2024050123",
      chatType: "C2C",
      reason: "case 7",
    });
    expect(actions.holdList).toHaveBeenCalledWith({ json: true });
    expect(actions.holdRelease).toHaveBeenCalledWith("20240502T031500Z-a1b2c3", { reason: "settled" });
    expect(actions.holdAdd).toHaveBeenCalledWith({ user: "alice", to: "2024050123" });
    expect(actions.holdAdd).toHaveBeenCalledWith({ group: "@TGS#1" });
    expect(missing).toBe(EXIT.usage);
    expect(both).toBe(EXIT.usage);
    expect(actions.holdAdd).toHaveBeenCalledTimes(3);
  });

  it("passes status --hours and --json, verify --prefix under manifests/, and every sig URL", async () => {
    const actions = fakeActions();

    await runCli(["status", "--hours", "6", "--json"], actions, fakeTerminal());
    await runCli(["verify", "--prefix", "chat_type=C2C/dt=2024-05-01/"], actions, fakeTerminal());
    await runCli(
      ["sig", "https://a.myqcloud.com/1.jpg", "https://a.myqcloud.com/2.jpg"],
      actions,
      fakeTerminal(),
    );

    expect(actions.status).toHaveBeenCalledWith({ hours: 6, json: true });
    expect(actions.verify).toHaveBeenCalledWith({ prefix: "manifests/chat_type=C2C/dt=2024-05-01/" });
    expect(actions.sig).toHaveBeenCalledWith(
      ["https://a.myqcloud.com/1.jpg", "https://a.myqcloud.com/2.jpg"],
      {
        json: false,
      },
    );
  });
});

describe("imvault error reporting", () => {
  it("prints a configuration error as one line and exits 2", async () => {
    const terminal = fakeTerminal();
    const failing = fakeActions({
      archive: async () => Promise.reject(new ConfigError("IM_SECRET_KEY", "is missing")),
    });

    const code = await runCli(["archive"], failing, terminal);

    expect(code).toBe(EXIT.usage);
    expect(terminal.stderr).toEqual(["imvault: configuration: IM_SECRET_KEY is missing"]);
  });

  it("prints Tencent's refusal with its code, hint and request id on one line and exits 1", async () => {
    const terminal = fakeTerminal();
    const error = new ImApiError({
      command: "im_cos_msg/get_cos_sig",
      code: 70009,
      info: "sig verify failed",
      requestId: "req-1",
      retryable: false,
      hint: "the secret key (IM_SECRET_KEY) does not match",
    });

    const code = await runCli(
      ["sig", "https://a.myqcloud.com/1.jpg"],
      fakeActions({ sig: async () => Promise.reject(error) }),
      terminal,
    );

    expect(code).toBe(EXIT.failure);
    expect(terminal.stderr).toHaveLength(1);
    expect(terminal.stderr[0]).toMatch(
      /^imvault: Tencent IM im_cos_msg\/get_cos_sig failed with code 70009: .*IM_SECRET_KEY.*\[RequestId req-1\]$/,
    );
  });

  it("shows a stack trace only with DEBUG", async () => {
    const boom = fakeActions({ status: async () => Promise.reject(new Error("disk on fire")) });
    const quiet = fakeTerminal();
    const loud = fakeTerminal(true);

    await runCli(["status"], boom, quiet);
    await runCli(["status"], boom, loud);

    expect(quiet.stderr).toEqual(["imvault: disk on fire"]);
    expect(loud.stderr[0]).toMatch(/disk on fire\n\s+at /);
  });
});

describe("manifestPrefix", () => {
  it("keeps a manifests/ prefix and adds it otherwise", () => {
    expect(manifestPrefix("manifests/chat_type=C2C/")).toBe("manifests/chat_type=C2C/");
    expect(manifestPrefix("/chat_type=Group/")).toBe("manifests/chat_type=Group/");
  });
});

describe("imvault export command line", () => {
  it("passes the subject, window, format and --out to the export action", async () => {
    const actions = fakeActions();

    const code = await runCli(
      [
        "export",
        "--user",
        "alice",
        "--from",
        "2024050100",
        "--to",
        "2024050223",
        "--format",
        "rsmf",
        "--out",
        "x",
      ],
      actions,
      fakeTerminal(),
    );

    expect(code).toBe(EXIT.ok);
    expect(actions.exportRun).toHaveBeenCalledWith({
      user: "alice",
      from: "2024050100",
      to: "2024050223",
      format: "rsmf",
      out: "x",
    });
  });

  it("runs `export verify DIR` without asking for the export's own options", async () => {
    const actions = fakeActions();

    const code = await runCli(["export", "verify", "some/dir", "--json"], actions, fakeTerminal());

    expect(code).toBe(EXIT.ok);
    expect(actions.exportVerify).toHaveBeenCalledWith("some/dir", { json: true });
    expect(actions.exportRun).not.toHaveBeenCalled();
  });

  it("refuses a format it does not write, with a usage error", async () => {
    const terminal = fakeTerminal();
    const code = await runCli(
      ["export", "--user", "a", "--format", "pdf", "--out", "x"],
      fakeActions(),
      terminal,
    );

    expect(code).toBe(EXIT.usage);
    expect(terminal.stderr.join("\n")).toMatch(/pdf/);
  });
});
