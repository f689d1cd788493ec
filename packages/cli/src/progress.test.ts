import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { startProgress } from "./progress.ts";
import type { Terminal } from "./terminal.ts";

function fakeTerminal(interactive: boolean): Terminal & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    out: (line) => lines.push(line),
    outBytes: (bytes) => lines.push(Buffer.from(bytes).toString("utf8")),
    err: (line) => lines.push(line),
    interactive,
    debug: false,
  };
}

/** A stream that claims to be a terminal, as cli-progress draws only on one. */
function fakeTty(): { stream: PassThrough; text(): string } {
  const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 120 });
  const chunks: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => chunks.push(chunk));
  return { stream, text: () => Buffer.concat(chunks).toString("utf8") };
}

describe("progress", () => {
  it("prints one numbered line per item when not on a terminal, and draws no bar", () => {
    const terminal = fakeTerminal(false);
    const tty = fakeTty();

    const progress = startProgress(terminal, 12, "archiving", tty.stream);
    progress.item("archived C2C 2026112210");
    progress.log("warn: retrying");
    progress.stop();

    expect(terminal.lines).toEqual(["[ 1/12] archived C2C 2026112210", "warn: retrying"]);
    expect(tty.text()).toBe("");
  });

  it("draws a bar on a terminal, and prints notable items and log lines above it, even those just before stop", () => {
    const terminal = fakeTerminal(true);
    const tty = fakeTty();

    const progress = startProgress(terminal, 2, "archiving", tty.stream);
    progress.item("archived C2C 2026112210");
    progress.item("failed Group 2026112210", true);
    progress.log("warn: retrying");
    progress.stop();

    const drawn = tty.text();
    expect(drawn).toContain("archiving [");
    expect(drawn).toContain("2/2");
    expect(drawn).toContain("failed Group 2026112210\n");
    expect(drawn).toContain("warn: retrying\n");
    expect(terminal.lines).toEqual([]);
  });

  it("shows the bytes done and the speed over the last seconds on a terminal, not only items done", () => {
    const terminal = fakeTerminal(true);
    const tty = fakeTty();
    let now = 1_000_000;

    const progress = startProgress(terminal, 1, "archiving", tty.stream, () => now);
    now += 2_000;
    progress.bytes(5 * 1024 * 1024);
    progress.stop();

    expect(tty.text()).toMatch(/archiving \[.*\] 0\/1 5\.0 MiB 2\.5 MiB\/s/);
  });
});
