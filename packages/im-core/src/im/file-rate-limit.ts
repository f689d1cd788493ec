import { mkdir, open, readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { ImvaultError } from "../errors.ts";
import { DIR_MODE, FILE_MODE } from "../store/local-fs-errors.ts";
import { type Clock, systemClock } from "../util/clock.ts";
import type { RateLimit } from "./rate-limit.ts";

/** The shared rate limit's directory could not be used (permissions, a full disk, a stuck lock). */
export class SharedRateLimitError extends ImvaultError {}

export interface FileRateLimitOptions {
  /** The directory every sharing process names alike (e.g. under DATA_DIR/.imvault); made when missing. */
  dir: string;
  /** Calls per second across every process that shares `dir`; fractions as RateLimiter's. */
  ratePerSecond: number;
  /** Reservations are made on this clock; default the system clock (which the processes share). */
  clock?: Clock;
  /**
   * Added to the one-second window (default MARGIN_MS): Tencent counts calls when they arrive, and
   * calls sent a window apart may arrive less than one apart when the earlier one took longer.
   */
  marginMs?: number;
}

/** Slack for the difference in latency between calls: ~9 % less throughput at 10 calls/s. */
export const MARGIN_MS = 100;
const LOCK = "lock";
const STARTS = "starts";
/** A lock held this long belongs to a process that died holding it: the critical section takes ms. */
const STALE_LOCK_MS = 2_000;
/** Waiting on another process's lock longer than this means something is wrong: fail the call. */
const LOCK_TIMEOUT_MS = 10_000;

/**
 * A rate limit that the processes of one machine share through a directory, with RateLimiter's
 * rule: at most `limit` calls start within any window of a second (plus `marginMs`), and a burst of
 * `limit` may go at once.
 *
 * The directory holds `starts`, the start times reserved lately (one a line), and `lock` while a
 * process reserves: created with O_CREAT|O_EXCL (`wx`), so one process at a time reads the times,
 * picks the earliest start the rule allows, and writes them back (a new file renamed over the old, so
 * a kill -9 never leaves half a list). A lock whose process is gone (a pid that no longer runs) or
 * that is older than STALE_LOCK_MS is removed by the next process that wants it. Reservations a
 * killed process made only delay the others until they pass; an aborted call keeps its reservation.
 */
export class FileRateLimit implements RateLimit {
  readonly #dir: string;
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #clock: Clock;
  /** This process's reservations, one at a time (it never waits on its own lock). */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: FileRateLimitOptions) {
    const rate = options.ratePerSecond;
    if (!(rate > 0) || !Number.isFinite(rate)) {
      throw new RangeError(`rate must be a positive number of calls per second, got ${rate}`);
    }
    const margin = options.marginMs ?? MARGIN_MS;
    if (!(margin >= 0) || !Number.isFinite(margin)) {
      throw new RangeError(`marginMs must be a non-negative number, got ${margin}`);
    }
    this.#dir = options.dir;
    this.#limit = Math.max(1, Math.floor(rate));
    this.#windowMs = (rate >= 1 ? 1000 : 1000 / rate) + margin;
    this.#clock = options.clock ?? systemClock;
  }

  async take(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const reserved = this.#queue.then(() => this.#reserve());
    this.#queue = reserved.catch(() => {});
    const start = await reserved;
    const wait = start - this.#clock.now();
    if (wait > 0) await this.#clock.sleep(wait, signal);
  }

  async #reserve(): Promise<number> {
    await this.#lock();
    try {
      const now = this.#clock.now();
      // Reservations are made in increasing order; one a whole window ago no longer counts.
      const starts = (await this.#readStarts()).filter((t) => t + this.#windowMs > now);
      const bound = starts[starts.length - this.#limit];
      const start = bound === undefined ? now : Math.max(now, bound + this.#windowMs);
      starts.push(start);
      const temp = join(this.#dir, `${STARTS}.${process.pid}.tmp`);
      await writeFile(temp, `${starts.join("\n")}\n`, { mode: FILE_MODE });
      await rename(temp, join(this.#dir, STARTS));
      return start;
    } catch (error) {
      throw this.#failure("could not reserve a start", error);
    } finally {
      await unlink(join(this.#dir, LOCK)).catch(() => {});
    }
  }

  async #readStarts(): Promise<number[]> {
    let text: string;
    try {
      text = await readFile(join(this.#dir, STARTS), "utf8");
    } catch (error) {
      if (errorCode(error) === "ENOENT") return [];
      throw error;
    }
    return text
      .split("\n")
      .map(Number)
      .filter((t) => t > 0 && Number.isFinite(t));
  }

  async #lock(): Promise<void> {
    const path = join(this.#dir, LOCK);
    const giveUpAt = Date.now() + LOCK_TIMEOUT_MS;
    for (;;) {
      try {
        const handle = await open(path, "wx", FILE_MODE);
        try {
          await handle.writeFile(String(process.pid));
        } finally {
          await handle.close();
        }
        return;
      } catch (error) {
        const code = errorCode(error);
        if (code === "ENOENT") {
          await mkdir(this.#dir, { recursive: true, mode: DIR_MODE }).catch((e: unknown) => {
            throw this.#failure("could not make its directory", e);
          });
          continue;
        }
        if (code !== "EEXIST") throw this.#failure("could not take its lock", error);
      }
      const removed = await removeIfStale(path).catch((e: unknown) => {
        throw this.#failure("could not check its lock", e);
      });
      if (removed) continue;
      if (Date.now() > giveUpAt) {
        throw this.#failure(`its lock was held for more than ${LOCK_TIMEOUT_MS} ms`, undefined);
      }
      await delay(1 + Math.floor(Math.random() * 3));
    }
  }

  #failure(problem: string, cause: unknown): SharedRateLimitError {
    if (cause instanceof SharedRateLimitError) return cause;
    const code = errorCode(cause);
    return new SharedRateLimitError(
      `shared rate limit in ${this.#dir}: ${problem}${code === undefined ? "" : ` (${code})`}`,
      { cause, details: { dir: this.#dir } },
    );
  }
}

/** Removes the lock when its process is gone or it is older than STALE_LOCK_MS; true if it did (or it went). */
async function removeIfStale(path: string): Promise<boolean> {
  try {
    const [info, owner] = await Promise.all([stat(path), readFile(path, "utf8")]);
    const pid = Number(owner);
    if (Date.now() - info.mtimeMs < STALE_LOCK_MS && !isGone(pid)) return false;
    await unlink(path);
    return true;
  } catch (error) {
    // Released meanwhile: try again at once.
    if (errorCode(error) === "ENOENT") return true;
    throw error;
  }
}

/** True when `pid` names no running process (an empty or unreadable pid never counts as gone). */
function isGone(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return errorCode(error) === "ESRCH";
  }
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}
