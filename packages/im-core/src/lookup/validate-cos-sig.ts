import * as v from "valibot";
import { ValidationError } from "../errors.ts";
import { type CosSigRequestItem, CosSigRequestItemSchema } from "../schemas/cos-sig.ts";
import { type AllowList, isUrlAllowed } from "../util/allow-list.ts";

/**
 * Checks a `POST /v1/cos-sig` body before anything reaches Tencent: a bad item must cost the caller a
 * 400 that names it, not a Tencent call (and its rate budget) that fails for the whole batch.
 *
 * Each field is checked by its schema in schemas/cos-sig.ts (the same that the OpenAPI document
 * shows), one problem per field; what a schema cannot say is added here: every bad item is reported
 * at once with its index and ResourceID, unknown fields are listed together, a ResourceID used twice
 * names its first item, and RawURL's host must be on the configured allow-list.
 */

export { MAX_RAW_URL_LENGTH } from "../schemas/cos-sig.ts";

/** The message lists this many items; `details.items` always lists every one. */
const ITEMS_IN_MESSAGE = 5;

export interface CosSigLimits {
  /** Most items in one request (1..maxItems). */
  maxItems: number;
  /** Hosts a RawURL may name (allow-list entries, see util/allow-list.ts). */
  allowHosts: AllowList;
}

/** One bad item: where it is, which ResourceID it claims (when it has a usable one), what is wrong. */
export interface BadItem {
  index: number;
  ResourceID?: number;
  problems: string[];
}

type FieldSchema = v.GenericSchema<unknown, unknown>;

/** The body's items, exactly as given, once every rule holds; otherwise a ValidationError. */
export function validateCosSigRequest(body: unknown, limits: CosSigLimits): CosSigRequestItem[] {
  if (!isPlainObject(body)) {
    throw new ValidationError(
      'the body must be a JSON object {"RawURLs":[{"ResourceID":int,"RawURL":string}]}',
    );
  }
  const extra = Object.keys(body).filter((k) => k !== "RawURLs");
  if (extra.length > 0) {
    throw new ValidationError(`the body has fields other than RawURLs: ${extra.join(", ")}`, {
      fields: extra,
    });
  }
  const rawUrls = body.RawURLs;
  if (!Array.isArray(rawUrls)) {
    throw new ValidationError("RawURLs must be an array of {ResourceID, RawURL} items");
  }
  if (rawUrls.length === 0 || rawUrls.length > limits.maxItems) {
    throw new ValidationError(`RawURLs must hold 1 to ${limits.maxItems} items, got ${rawUrls.length}`, {
      count: rawUrls.length,
      maxItems: limits.maxItems,
    });
  }

  const fields = fieldSchemas(limits.allowHosts);
  const firstIndexOf = new Map<number, number>();
  const bad: BadItem[] = [];
  rawUrls.forEach((item: unknown, index) => {
    const problems = itemProblems(item, fields);
    const id = isPlainObject(item) ? item.ResourceID : undefined;
    if (isResourceId(id)) {
      const first = firstIndexOf.get(id);
      if (first === undefined) firstIndexOf.set(id, index);
      else problems.push(`ResourceID ${id} is already used by item ${first}`);
    }
    if (problems.length > 0) {
      // An out-of-range number is still what the caller will recognise the item by.
      bad.push(typeof id === "number" ? { index, ResourceID: id, problems } : { index, problems });
    }
  });
  if (bad.length > 0) {
    const shown = bad.slice(0, ITEMS_IN_MESSAGE).map(describe).join("; ");
    const more = bad.length > ITEMS_IN_MESSAGE ? `; and ${bad.length - ITEMS_IN_MESSAGE} more` : "";
    throw new ValidationError(
      `${bad.length} of ${rawUrls.length} RawURLs item${bad.length === 1 ? " is" : "s are"} invalid: ${shown}${more}`,
      { items: bad },
    );
  }
  return rawUrls as CosSigRequestItem[];
}

/** The item's field schemas, RawURL's extended with the allow-list. */
function fieldSchemas(allowHosts: AllowList): Record<string, FieldSchema> {
  const { ResourceID, RawURL } = CosSigRequestItemSchema.entries;
  // Runs once RawURL's own checks passed (abortPipeEarly): the URL parses and has no credentials.
  const allowed = v.check<string, (issue: v.CheckIssue<string>) => string>(
    (raw) => isUrlAllowed(new URL(raw), allowHosts),
    (issue) => notAllowed(new URL(issue.input), allowHosts),
  );
  return { ResourceID, RawURL: v.pipe(RawURL, allowed) };
}

/** Every problem of one item: unknown fields, then each field's first problem, in field order. */
function itemProblems(item: unknown, fields: Record<string, FieldSchema>): string[] {
  if (!isPlainObject(item)) return ["must be an object {ResourceID, RawURL}"];
  const names = Object.keys(fields);
  const problems: string[] = [];
  const extra = Object.keys(item).filter((k) => !names.includes(k));
  if (extra.length > 0) problems.push(`has fields other than ${names.join(" and ")}: ${extra.join(", ")}`);
  for (const name of names) {
    if (item[name] === undefined) {
      problems.push(`${name} is missing`);
      continue;
    }
    const result = v.safeParse(fields[name]!, item[name], { abortPipeEarly: true });
    if (!result.success) problems.push(result.issues[0].message);
  }
  return problems;
}

/** Why an absolute, credential-free URL is refused: its scheme, or its host. Never the whole URL. */
function notAllowed(url: URL, allowHosts: AllowList): string {
  if (url.protocol !== "https:") return `RawURL must be https, got ${url.protocol.replace(/:$/, "")}`;
  return `RawURL host ${url.host} is not on the allowed hosts (${allowHosts.join(", ")}; COS_URL_HOSTS)`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function isResourceId(value: unknown): value is number {
  return v.is(CosSigRequestItemSchema.entries.ResourceID, value);
}

function describe(item: BadItem): string {
  const id = item.ResourceID === undefined ? "" : ` (ResourceID ${item.ResourceID})`;
  return `item ${item.index}${id}: ${item.problems.join(", ")}`;
}
