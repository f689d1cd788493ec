import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { TEST_ADMIN, TEST_SDKAPPID } from "@imvault/im-sim";
import { describe, expect, it } from "vitest";
import simPackage from "../packages/im-sim/package.json" with { type: "json" };
import { call, READY_HOUR } from "./sim-helpers.ts";

const BIN = fileURLToPath(new URL("../packages/im-sim/bin/imvault-sim.ts", import.meta.url));

/** Starts the bin with Node 24 (this test's own node) and resolves with its URL once it listens. */
async function startBin(args: string[], env: Record<string, string> = {}) {
  const clean = { ...process.env };
  for (const k of ["IM_SDKAPPID", "IM_SECRET_KEY", "IM_ADMIN"]) delete clean[k];
  const child = spawn(process.execPath, [BIN, "--port", "0", ...args], {
    env: { ...clean, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (c: Buffer) => {
    out += c.toString();
  });
  child.stderr!.on("data", (c: Buffer) => {
    out += c.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 20_000);
    child.stdout!.on("data", () => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once("exit", () => reject(new Error(`exited early: ${out}`)));
  });
  return { child, url, output: () => out };
}

async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  const exited = once(child, "exit");
  child.kill(signal);
  const [code] = await exited;
  return code as number | null;
}

describe("imvault-sim CLI", () => {
  it("listens on 127.0.0.1 with the documented test values, says how to point imvault at it, and exits 0 on SIGTERM", async () => {
    const { child, url, output } = await startBin(["--messages-per-hour", "5"]);
    try {
      const info = (await (await fetch(`${url}/__sim/info`)).json()) as Record<string, unknown>;
      const clock = { now: () => Date.now() };
      const answer = await call(url, clock, { ChatType: "C2C", MsgTime: READY_HOUR });

      expect(info).toMatchObject({ sdkAppId: TEST_SDKAPPID, admins: [TEST_ADMIN], retentionHours: 168 });
      expect(output()).toContain(`IM_BASE_URL=${url}`);
      // 2024030118 is far past the 7-day default retention.
      expect(answer.json.ErrorCode).toBe(1005);
    } finally {
      expect(await stop(child, "SIGTERM")).toBe(0);
    }
    expect(output()).toContain("SIGTERM, closing");
  });

  it("takes app, key and admin from IM_* env, flags winning over env, and exits 0 on SIGINT", async () => {
    const { child, url } = await startBin(
      ["--admin", "flag_admin", "--retention-hours", "72", "--rate-limit", "3"],
      {
        IM_SDKAPPID: "1400000123",
        IM_SECRET_KEY: "env-key",
        IM_ADMIN: "env_admin",
      },
    );
    try {
      const info = (await (await fetch(`${url}/__sim/info`)).json()) as Record<string, unknown>;
      const clock = { now: () => Date.now() };
      const ok = await call(
        url,
        clock,
        { ChatType: "C2C", MsgTime: "2024030118" },
        {
          sdkappid: "1400000123",
          sigAppId: 1400000123,
          secretKey: "env-key",
          identifier: "flag_admin",
        },
      );

      expect(info).toMatchObject({
        sdkAppId: 1400000123,
        admins: ["flag_admin"],
        retentionHours: 72,
        rateLimitPerSecond: 3,
      });
      expect(ok.json.ErrorCode).toBe(1005);
    } finally {
      expect(await stop(child, "SIGINT")).toBe(0);
    }
  });

  it("prints its package's version for --version and exits 0", async () => {
    const child = spawn(process.execPath, [BIN, "--version"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    const [code] = await once(child, "exit");

    expect([code, out]).toEqual([0, `${simPackage.version}\n`]);
  });

  it("refuses a bad flag value with a non-zero exit", async () => {
    const child = spawn(process.execPath, [BIN, "--port", "99999"], { stdio: "ignore" });
    const [code] = await once(child, "exit");

    expect(code).not.toBe(0);
  });
});
