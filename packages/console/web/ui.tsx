import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import { BEIJING_ZONE, formatDuration, formatInZone } from "../src/model/time.ts";
import { ApiError, NotAvailableError } from "./api.ts";

export type Loaded<T> =
  | { state: "loading" }
  | { state: "done"; data: T }
  | { state: "error"; error: unknown };

/** Runs `load` when `deps` change (aborting the one before); `reload` runs it again. */
export function useRequest<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]) {
  const [result, setResult] = useState<Loaded<T>>({ state: "loading" });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    setResult({ state: "loading" });
    load(controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) setResult({ state: "done", data });
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setResult({ state: "error", error });
      },
    );
    return () => controller.abort();
  }, [...deps, generation]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { result, reload };
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" /> Loading {what}…
    </p>
  );
}

export function NotAvailable({ what, children }: { what: string; children?: ComponentChildren }) {
  return (
    <div class="notice not-available" role="note">
      <p>
        <strong>{what}</strong> is not available on this deployment yet.
      </p>
      {children}
    </div>
  );
}

/** A readable message for any error the API can answer, with the details it gave. */
export function ErrorView({ error, retry }: { error: unknown; retry?: () => void }) {
  if (error instanceof NotAvailableError)
    return <NotAvailable what="This screen">{error.message}</NotAvailable>;
  const api = error instanceof ApiError ? error : undefined;
  const message = error instanceof Error ? error.message : String(error);
  const items = Array.isArray(api?.details?.items) ? (api.details.items as unknown[]) : [];
  return (
    <div class="notice error" role="alert">
      <p>
        {api !== undefined && api.status > 0 ? <span class="code">HTTP {api.status}</span> : null} {message}
      </p>
      {items.length > 0 ? (
        <ul>
          {items.slice(0, 20).map((item) => (
            <li key={JSON.stringify(item)}>{describeItem(item)}</li>
          ))}
        </ul>
      ) : null}
      {retry === undefined ? null : (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

function describeItem(item: unknown): string {
  if (typeof item !== "object" || item === null) return String(item);
  const o = item as Record<string, unknown>;
  const where =
    o.index !== undefined
      ? `item ${String(o.index)}`
      : o.ResourceID !== undefined
        ? `ResourceID ${String(o.ResourceID)}`
        : "";
  const problems = Array.isArray(o.problems)
    ? o.problems.join("; ")
    : String(o.problem ?? o.message ?? JSON.stringify(o));
  return where === "" ? problems : `${where}: ${problems}`;
}

/** An instant in the viewer's zone, with Beijing time beside it. */
export function When({ ms, seconds = false }: { ms: number; seconds?: boolean }) {
  const local = formatInZone(ms, undefined, seconds);
  const beijing = formatInZone(ms, BEIJING_ZONE, seconds);
  return (
    <time dateTime={new Date(ms).toISOString()}>
      {local}
      {local === beijing ? null : <span class="beijing"> · {beijing}</span>}
    </time>
  );
}

/** "in 2 d 5 h" / "3 h ago", refreshed each minute. */
export function Countdown({ ms }: { ms: number }) {
  const now = useNow(30_000);
  const delta = ms - now;
  return (
    <span class="countdown">
      {delta >= 0 ? `in ${formatDuration(delta)}` : `${formatDuration(-delta)} ago`}
    </span>
  );
}

export function useNow(everyMs: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}
