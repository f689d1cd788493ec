import type { ChatType } from "@imvault/im-core";
import { Rng } from "./prng.ts";

/**
 * Faults on demand. API faults hit a REST call before it is checked; download faults hit the bytes of
 * a history-file or media download. Queued faults (`next`) are used first, in order; then, if set,
 * seeded random faults (`random`) are drawn per request, the same draws for the same request order.
 */

export const API_FAULTS = ["http502", "http503", "code1003", "rateLimit", "sigExpired"] as const;
export const DOWNLOAD_FAULTS = [
  "corrupt",
  "truncate",
  "stall",
  "slow",
  "expireUrlEarly",
  "notFound",
  "serverError",
] as const;
export type ApiFaultKind = (typeof API_FAULTS)[number];
export type DownloadFaultKind = (typeof DOWNLOAD_FAULTS)[number];
export type FaultKind = ApiFaultKind | DownloadFaultKind;

export type Command = "get_history" | "get_cos_sig";
export type DownloadTarget = "history" | "media";

/** Which requests a fault may hit; every given field must match. */
export interface FaultMatch {
  command?: Command;
  target?: DownloadTarget;
  chatType?: ChatType;
  msgTime?: string;
  /** 0-based index of the file in the hour's File array. */
  fileIndex?: number;
  /** A media download of this RawURL's object (compared by path: a PreSigURL carries no query of it). */
  mediaUrl?: string;
}

/** Tuning of the download faults; defaults in brackets. */
export interface FaultTuning {
  /** truncate, stall: bytes sent before the cut [half the body; stall at most 64 KiB]. */
  afterBytes?: number;
  /** slow: bytes per second [262144]. */
  bytesPerSecond?: number;
  /** corrupt: offset of the flipped byte in the body [the middle]. */
  at?: number;
}

export interface FaultSpec extends FaultTuning {
  kind: FaultKind;
  /** How many matching requests it hits. Default 1; Infinity for all. */
  count?: number;
  match?: FaultMatch;
}

/** A fault picked for one request. */
export interface ActiveFault extends FaultTuning {
  kind: FaultKind;
  source: "next" | "random";
}

export type FaultProbabilities = Partial<Record<FaultKind, number>>;

export interface FaultControl {
  /** Queues faults for the next matching requests. */
  next(spec: FaultSpec | readonly FaultSpec[]): void;
  /** From now on, each request draws faults with these probabilities from a PRNG seeded with `seed`. */
  random(probabilities: FaultProbabilities, seed?: string | number, tuning?: FaultTuning): void;
  /** Drops queued faults and stops random ones. */
  clear(): void;
  /** Queued faults with what is left of their counts, and the random setting if any. */
  pending(): {
    queued: FaultSpec[];
    random: { probabilities: FaultProbabilities; tuning: FaultTuning } | null;
  };
}

export interface ApiFaultContext {
  command: Command | undefined;
  chatType?: string | undefined;
  msgTime?: string | undefined;
}

export interface DownloadFaultContext {
  target: DownloadTarget;
  chatType?: string | undefined;
  msgTime?: string | undefined;
  fileIndex?: number | undefined;
  /** Media downloads: the object's path (`<bucket>/<dir>/<dir>/<name>`). */
  objectPath?: string | undefined;
}

type Context = { command?: Command | undefined; target?: DownloadTarget } & Omit<ApiFaultContext, "command"> &
  Omit<DownloadFaultContext, "target">;

function matches(match: FaultMatch | undefined, ctx: Context): boolean {
  if (match === undefined) return true;
  if (match.command !== undefined && match.command !== ctx.command) return false;
  if (match.target !== undefined && match.target !== ctx.target) return false;
  if (match.chatType !== undefined && match.chatType !== ctx.chatType) return false;
  if (match.msgTime !== undefined && match.msgTime !== ctx.msgTime) return false;
  if (match.fileIndex !== undefined && match.fileIndex !== ctx.fileIndex) return false;
  if (match.mediaUrl !== undefined && objectPathOf(match.mediaUrl) !== ctx.objectPath) return false;
  return true;
}

function objectPathOf(rawUrl: string): string | undefined {
  try {
    return decodeURIComponent(new URL(rawUrl).pathname.slice(1));
  } catch {
    return undefined;
  }
}

const isApiFault = (k: FaultKind): k is ApiFaultKind => (API_FAULTS as readonly string[]).includes(k);
const isDownloadFault = (k: FaultKind): k is DownloadFaultKind =>
  (DOWNLOAD_FAULTS as readonly string[]).includes(k);

/** Checks a fault spec from an untrusted source (the HTTP control route); returns a problem or undefined. */
export function faultSpecProblem(spec: unknown): string | undefined {
  if (typeof spec !== "object" || spec === null) return "a fault must be an object";
  const s = spec as Record<string, unknown>;
  if (
    typeof s.kind !== "string" ||
    !(isApiFault(s.kind as FaultKind) || isDownloadFault(s.kind as FaultKind))
  ) {
    return `unknown fault kind ${JSON.stringify(s.kind)}; known: ${[...API_FAULTS, ...DOWNLOAD_FAULTS].join(", ")}`;
  }
  for (const k of ["count", "afterBytes", "bytesPerSecond", "at"]) {
    if (s[k] !== undefined && s[k] !== null && (typeof s[k] !== "number" || !((s[k] as number) >= 0))) {
      return `${k} must be a non-negative number`;
    }
  }
  if (s.match !== undefined && (typeof s.match !== "object" || s.match === null))
    return "match must be an object";
  const mediaUrl = (s.match as { mediaUrl?: unknown } | undefined)?.mediaUrl;
  if (mediaUrl !== undefined && (typeof mediaUrl !== "string" || !URL.canParse(mediaUrl)))
    return "match.mediaUrl must be an absolute URL";
  return undefined;
}

export class Faults implements FaultControl {
  #queue: (FaultSpec & { left: number })[] = [];
  #random: { probabilities: FaultProbabilities; tuning: FaultTuning; rng: Rng } | null = null;

  next(spec: FaultSpec | readonly FaultSpec[]): void {
    const specs = Array.isArray(spec) ? (spec as readonly FaultSpec[]) : [spec as FaultSpec];
    for (const s of specs) {
      const problem = faultSpecProblem(s);
      if (problem !== undefined) throw new TypeError(problem);
      // count: null arrives over JSON for "no limit" (JSON has no Infinity).
      const count = s.count === null ? Number.POSITIVE_INFINITY : (s.count ?? 1);
      if (count > 0) this.#queue.push({ ...s, left: count });
    }
  }

  random(
    probabilities: FaultProbabilities,
    seed: string | number = "faults",
    tuning: FaultTuning = {},
  ): void {
    for (const [kind, p] of Object.entries(probabilities)) {
      if (!isApiFault(kind as FaultKind) && !isDownloadFault(kind as FaultKind)) {
        throw new TypeError(`unknown fault kind ${JSON.stringify(kind)}`);
      }
      if (typeof p !== "number" || !(p >= 0 && p <= 1))
        throw new TypeError(`probability of ${kind} must be 0 – 1`);
    }
    this.#random = {
      probabilities: { ...probabilities },
      tuning: { ...tuning },
      rng: new Rng(`faults|${seed}`),
    };
  }

  clear(): void {
    this.#queue = [];
    this.#random = null;
  }

  pending() {
    return {
      queued: this.#queue.map(({ left, ...s }) => ({ ...s, count: left })),
      random:
        this.#random === null
          ? null
          : { probabilities: { ...this.#random.probabilities }, tuning: this.#random.tuning },
    };
  }

  /** The fault, if any, for a REST call. */
  forApi(ctx: ApiFaultContext): ActiveFault | undefined {
    return this.#take(ctx, isApiFault, API_FAULTS);
  }

  /** The fault, if any, for a download. */
  forDownload(ctx: DownloadFaultContext): ActiveFault | undefined {
    return this.#take(ctx, isDownloadFault, DOWNLOAD_FAULTS);
  }

  #take(
    ctx: Context,
    applies: (k: FaultKind) => boolean,
    kinds: readonly FaultKind[],
  ): ActiveFault | undefined {
    const i = this.#queue.findIndex((f) => applies(f.kind) && matches(f.match, ctx));
    if (i >= 0) {
      const f = this.#queue[i]!;
      f.left--;
      if (f.left <= 0) this.#queue.splice(i, 1);
      return {
        kind: f.kind,
        afterBytes: f.afterBytes,
        bytesPerSecond: f.bytesPerSecond,
        at: f.at,
        source: "next",
      };
    }
    const r = this.#random;
    if (r === null) return undefined;
    // One draw per applicable kind per request, hit or miss, so the sequence depends on request order only.
    let hit: FaultKind | undefined;
    for (const kind of kinds) {
      const p = r.probabilities[kind];
      if (p === undefined || p <= 0) continue;
      const u = r.rng.float();
      if (hit === undefined && u < p) hit = kind;
    }
    return hit === undefined ? undefined : { kind: hit, ...r.tuning, source: "random" };
  }
}
