/**
 * valibot schemas of single settings, over raw values as the sources give them: text from the
 * environment, text, numbers or arrays from SST links; an unset value is `undefined` (the sources
 * turn blank text and null into undefined). Each message is what follows the setting's name in a
 * ConfigError ("must be …", "is missing (…)"); no message of a secret setting quotes its value.
 */
import { type ApiKey, LIMITS, type Range, REGIONS, type Region } from "@imvault/im-core";
import * as v from "valibot";

/** A value quoted for a message: only ever for settings that are not secrets, and short. */
export function quote(value: unknown): string {
  const s = String(value);
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}

/** `schema`, or "is missing (hint)" when unset. */
export function required<S extends v.GenericSchema>(schema: S, hint: string) {
  return v.nonOptional(schema, `is missing (${hint})`);
}

/** Trimmed text; a secret's message does not say what it got instead. */
export function text(options: { secret?: boolean } = {}) {
  return v.pipe(
    v.string(options.secret ? "must be text" : (issue) => `must be text, not ${typeof issue.input}`),
    v.transform((s) => s.trim()),
  );
}

/** Text of at least `min` characters (a key: the message says how long, never what it got). */
export function secretOfAtLeast(min: number) {
  return v.pipe(
    text({ secret: true }),
    v.check((s) => s.length >= min, `must be at least ${min} characters`),
  );
}

function toNumber(raw: unknown): number {
  if (typeof raw === "number") return raw;
  return typeof raw === "string" ? Number(raw.trim()) : Number.NaN;
}

/** A number (or its text) within `range`; the message quotes what was given. */
export function number(range: Range, options: { integer?: boolean } = {}) {
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  const kind = options.integer ? "an integer" : "a number";
  const within = range.max === undefined ? `>= ${range.min}` : `from ${range.min} to ${range.max}`;
  return v.pipe(
    v.unknown(),
    v.check(
      (raw) => {
        const n = toNumber(raw);
        const whole = !options.integer || Number.isSafeInteger(n);
        return Number.isFinite(n) && whole && n >= range.min && n <= max;
      },
      (issue) => `must be ${kind} ${within} (got ${quote(issue.input)})`,
    ),
    v.transform(toNumber),
  );
}

export function integer(range: Range) {
  return number(range, { integer: true });
}

export function region() {
  return v.pipe(
    text(),
    v.check(
      (name) => Object.hasOwn(REGIONS, name),
      (issue) => `must be one of ${Object.keys(REGIONS).join(", ")} (got ${quote(issue.input)})`,
    ),
    v.transform((name) => name as Region),
  );
}

/** Why `value` is not an http(s) URL without credentials or fragment, or undefined. Never quoted. */
function urlProblem(value: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return "is not a URL";
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return "must be an http or https URL";
  if (parsed.username !== "" || parsed.password !== "" || parsed.hash !== "")
    return "must not carry credentials or a fragment";
  return undefined;
}

/** An http(s) URL, answered without its trailing slash. */
export function httpUrl() {
  return v.pipe(
    text(),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const problem = urlProblem(dataset.value);
      if (problem === undefined) return dataset.value.replace(/\/+$/, "");
      addIssue({ message: problem });
      return NEVER;
    }),
  );
}

// S3's rules for bucket names (the common subset; dots allowed for path-style local endpoints).
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function bucketName() {
  return v.pipe(
    text(),
    v.check(
      (name) => BUCKET.test(name),
      (issue) => `is not a valid S3 bucket name (got ${quote(issue.input)})`,
    ),
  );
}

const HOST_PATTERN = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

function originOf(value: string): string | undefined {
  try {
    const u = new URL(value);
    if (u.protocol !== "https:" && u.protocol !== "http:") return undefined;
    if (u.username || u.password || u.search || u.hash || (u.pathname !== "/" && u.pathname !== ""))
      return undefined;
    return u.origin;
  } catch {
    return undefined;
  }
}

/**
 * A comma-separated list (or, from a link, an array) of allow-list entries: `*.example.com`,
 * `example.com`, or an origin `http(s)://host[:port]`; lower-cased, without repeats. Each bad entry
 * is its own problem.
 */
export function hostList() {
  return v.pipe(
    v.unknown(),
    v.rawTransform(({ dataset, addIssue }) => {
      const raw = dataset.value;
      const entries: unknown[] = typeof raw === "string" ? raw.split(",") : Array.isArray(raw) ? raw : [];
      if (entries.length === 0) addIssue({ message: "must be a comma-separated list of hosts" });
      const out: string[] = [];
      entries.forEach((entry, i) => {
        const value = typeof entry === "string" ? entry.trim().toLowerCase() : "";
        const origin = value.includes("://") ? originOf(value) : undefined;
        if (origin !== undefined) out.push(origin);
        else if (value.includes("://"))
          addIssue({ message: `entry ${i + 1} is not an http(s) origin (got ${quote(value)})` });
        else if (HOST_PATTERN.test(value)) out.push(value);
        else addIssue({ message: `entry ${i + 1} is not a host or *.domain pattern (got ${quote(value)})` });
      });
      return [...new Set(out)];
    }),
  );
}

const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/**
 * API keys, `name:token,name:token`. Each bad entry is its own problem, named by position (and by
 * name once it has a valid one), never by token: empty, no colon, a bad name, an empty, spaced or
 * short token, a name or a token used twice.
 */
export function apiKeys() {
  return v.pipe(
    text({ secret: true }),
    v.rawTransform(({ dataset, addIssue }) => {
      const keys: ApiKey[] = [];
      const byName = new Map<string, number>();
      const byToken = new Map<string, string>();
      for (const [i, raw] of dataset.value.split(",").entries()) {
        const n = i + 1;
        const entry = raw.trim();
        const colon = entry.indexOf(":");
        const name = entry.slice(0, colon).trim();
        const token = entry.slice(colon + 1).trim();
        const problem = keyProblem(n, entry, name, token, byName, byToken);
        if (problem !== undefined) {
          addIssue({ message: problem });
          continue;
        }
        byName.set(name, n);
        byToken.set(token, name);
        keys.push({ name, token });
      }
      return keys;
    }),
  );
}

function keyProblem(
  n: number,
  entry: string,
  name: string,
  token: string,
  byName: Map<string, number>,
  byToken: Map<string, string>,
): string | undefined {
  if (entry === "") return `entry ${n} is empty`;
  if (!entry.includes(":")) return `entry ${n} is not name:token`;
  if (!KEY_NAME.test(name)) return `entry ${n} has an invalid name (letters, digits, . _ @ -; at most 64)`;
  if (token === "") return `entry ${n} (${name}) has an empty token`;
  if (/\s/.test(token)) return `entry ${n} (${name}) has whitespace in its token`;
  if (token.length < LIMITS.minApiTokenChars)
    return `entry ${n} (${name}) has a token shorter than ${LIMITS.minApiTokenChars} characters`;
  const sameName = byName.get(name);
  if (sameName !== undefined) return `entry ${n} repeats the name ${name} of entry ${sameName}`;
  const sameToken = byToken.get(token);
  if (sameToken !== undefined) return `entry ${n} (${name}) reuses the token of ${sameToken}`;
  return undefined;
}

/**
 * A rule between settings of one group, for the end of the group's pipe: `problem` says why the
 * values break it (reported on `key`), or undefined. It is judged only when every setting in `uses`
 * passed its own schema: one that did not is reported already.
 */
export function rule<T extends Record<string, unknown>>(
  key: keyof T & string,
  uses: readonly (keyof T & string)[],
  problem: (values: T) => string | undefined,
) {
  return v.rawCheck<T>(({ dataset, addIssue }) => {
    const failed = new Set(dataset.issues?.map((issue) => issue.path?.[0]?.key));
    if (uses.some((k) => failed.has(k))) return;
    const values = dataset.value as T;
    const message = problem(values);
    if (message === undefined) return;
    addIssue({
      message,
      path: [{ type: "object", origin: "value", input: values, key, value: values[key] }],
    });
  });
}
