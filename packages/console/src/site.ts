/** What the console build hands the API (dist/site.json), and how the API fills in the page. */

/** The page and each asset by its name under /assets/ (`app-<hash>.js`, …), as text. */
export interface ConsoleSite {
  html: string;
  assets: Record<string, { contentType: string; body: string }>;
}

/** Where the API puts the page's per-deployment settings (`<meta name="imvault:…">`). */
export const CONFIG_PLACEHOLDER = "<!--imvault:config-->";

/** The settings the page reads from its `<meta name="imvault:…" content>` tags. */
export interface ConsoleConfig {
  /** LOOKBACK_HOURS: the window `/v1/status` shows by default. */
  lookbackHours: number;
  /** SETTLE_HOURS: before that, a missing hour is pending, not at risk. */
  settleHours: number;
  /** IM_RETENTION_DAYS: when Tencent deletes an hour's files. */
  retentionDays: number;
}

export const CONFIG_META: Record<keyof ConsoleConfig, string> = {
  lookbackHours: "imvault:lookback-hours",
  settleHours: "imvault:settle-hours",
  retentionDays: "imvault:retention-days",
};
