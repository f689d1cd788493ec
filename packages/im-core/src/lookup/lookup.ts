import { ImTransportError, ImvaultError } from "../errors.ts";
import type { CosSigRequestItem, CosSigResult } from "../im/types.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";

export interface LookupDeps {
  /** im/calls.ts getCosSig bound to a client: chunks, keeps order, adds StatusText and ExpiresAt. */
  getCosSig: (items: CosSigRequestItem[], signal?: AbortSignal) => Promise<CosSigResult[]>;
  logger: Logger;
  clock: Clock;
}

/** Who asked: the API key's name (never its token) and the request id that ties logs together. */
export interface Caller {
  keyName: string;
  requestId: string;
}

export const AUDIT_MESSAGE = "cos-sig lookup";

/**
 * FULL_CONTROL signed URLs for already validated items, in the caller's order. Writes exactly one
 * audit line per lookup, whether it succeeded or not: who, which resources (URL host and path, never
 * the query or a PreSigURL), what Tencent said, and the request id.
 */
export async function lookupCosSig(
  deps: LookupDeps,
  items: CosSigRequestItem[],
  caller: Caller,
  options: { signal?: AbortSignal } = {},
): Promise<CosSigResult[]> {
  const started = deps.clock.now();
  const audit = {
    audit: true,
    keyName: caller.keyName,
    requestId: caller.requestId,
    count: items.length,
    resources: items.map((i) => ({ ResourceID: i.ResourceID, ...hostAndPath(i.RawURL) })),
  };
  try {
    const results = inCallersOrder(items, await deps.getCosSig(items, options.signal));
    const statuses = results.map((r) => ({ ResourceID: r.ResourceID, code: r.Code, status: r.StatusText }));
    deps.logger.info(AUDIT_MESSAGE, {
      ...audit,
      outcome: "ok",
      statuses,
      durationMs: deps.clock.now() - started,
    });
    return results;
  } catch (error) {
    deps.logger.warn(AUDIT_MESSAGE, {
      ...audit,
      outcome: "failed",
      error: error instanceof Error ? error.name : typeof error,
      ...(error instanceof ImvaultError && typeof error.details?.code === "number"
        ? { code: error.details.code }
        : {}),
      durationMs: deps.clock.now() - started,
    });
    throw error;
  }
}

/** Re-ordered by ResourceID (unique, the validator saw to it); an item Tencent left out is an error. */
function inCallersOrder(items: CosSigRequestItem[], results: CosSigResult[]): CosSigResult[] {
  const byId = new Map(results.map((r) => [r.ResourceID, r]));
  const missing = items.filter((i) => !byId.has(i.ResourceID)).map((i) => i.ResourceID);
  if (missing.length > 0) {
    throw new ImTransportError(
      `Tencent IM get_cos_sig answered without ${missing.length} of the ResourceIDs asked for: ${missing.slice(0, 10).join(", ")}`,
      { retryable: true },
    );
  }
  return items.map((i) => byId.get(i.ResourceID)!);
}

function hostAndPath(raw: string): { host: string; path: string } {
  try {
    const url = new URL(raw);
    return { host: url.host, path: url.pathname };
  } catch {
    return { host: "", path: "" };
  }
}
