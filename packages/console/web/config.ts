import { CONFIG_META, type ConsoleConfig } from "../src/site.ts";

/** SPEC's defaults, used when the page carries no value (an API older than the console). */
const DEFAULTS: ConsoleConfig = { lookbackHours: 72, settleHours: 6, retentionDays: 7 };

/** The deployment's settings the API wrote into the page's `<meta name="imvault:…">` tags. */
export function readConfig(doc: Document = document): ConsoleConfig & { fromPage: boolean } {
  let fromPage = true;
  const value = (key: keyof ConsoleConfig) => {
    const text = doc.querySelector(`meta[name="${CONFIG_META[key]}"]`)?.getAttribute("content");
    const n = Number(text);
    if (text == null || !Number.isFinite(n)) {
      fromPage = false;
      return DEFAULTS[key];
    }
    return n;
  };
  return {
    lookbackHours: value("lookbackHours"),
    settleHours: value("settleHours"),
    retentionDays: value("retentionDays"),
    fromPage,
  };
}
