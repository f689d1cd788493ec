import { randomBytes } from "node:crypto";
import { ConfigError, DEFAULTS } from "@imvault/im-core";
import { startSimulator, TEST_ADMIN, TEST_SDKAPPID } from "@imvault/im-sim";

/** Seed of the dev simulator: the same start shows the same history. */
export const DEV_SIM_SEED = "imvault-dev";

export type ImSourceChoice =
  | { kind: "tencent"; sdkAppId: string; admin: string; where: string }
  | { kind: "simulator"; admin: string };

/**
 * Tencent when both IM_SDKAPPID and IM_SECRET_KEY are set, the bundled simulator when neither is;
 * one without the other is a mistake worth stopping for rather than silently simulating.
 */
export function imSourceFromEnv(env: NodeJS.ProcessEnv): ImSourceChoice {
  const appId = env.IM_SDKAPPID?.trim() ?? "";
  const key = env.IM_SECRET_KEY ?? "";
  const admin = env.IM_ADMIN?.trim() || TEST_ADMIN;
  if (appId !== "" && key !== "") {
    const where = env.IM_BASE_URL?.trim()
      ? `at ${env.IM_BASE_URL.trim()}`
      : `region ${env.IM_REGION?.trim() || DEFAULTS.region}`;
    return { kind: "tencent", sdkAppId: appId, admin, where };
  }
  if (appId !== "")
    throw new ConfigError(
      "IM_SECRET_KEY",
      "is missing (IM_SDKAPPID is set); unset both to use the simulator",
    );
  if (key !== "")
    throw new ConfigError(
      "IM_SDKAPPID",
      "is missing (IM_SECRET_KEY is set); unset both to use the simulator",
    );
  return { kind: "simulator", admin };
}

export interface ImSource {
  /** What to tell the user: never the secret key. */
  description: string;
  /** Environment the handlers need on top of the user's (the simulator's app, key and URL). */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startImSource(choice: ImSourceChoice): Promise<ImSource> {
  if (choice.kind === "tencent") {
    return {
      description: `Tencent IM, SDKAppID ${choice.sdkAppId}, admin ${choice.admin}, ${choice.where} (IM_SDKAPPID / IM_SECRET_KEY are set)`,
      env: {},
      close: async () => {},
    };
  }
  // A fresh key per start: the simulator and the handlers share it, nobody else needs it.
  const secretKey = randomBytes(24).toString("base64url");
  const sim = await startSimulator({
    sdkAppId: TEST_SDKAPPID,
    secretKey,
    admins: [choice.admin],
    seed: DEV_SIM_SEED,
    // For a demo, an hour's files exist as soon as it ends (Tencent: usually within the hour after).
    processingDelayMinutes: 0,
  });
  return {
    description: `simulator at ${sim.url} (no IM_SDKAPPID / IM_SECRET_KEY set; SDKAppID ${TEST_SDKAPPID}, seed ${DEV_SIM_SEED})`,
    env: {
      IM_SDKAPPID: String(TEST_SDKAPPID),
      IM_SECRET_KEY: secretKey,
      IM_ADMIN: choice.admin,
      IM_BASE_URL: sim.url,
    },
    close: () => sim.close(),
  };
}
