import { ValidationError } from "../errors.ts";
import type { CosSigRequestItem } from "../im/types.ts";
import { type AllowList, isUrlAllowed, tryParseUrl } from "../util/allow-list.ts";

/**
 * Checks a `POST /v1/cos-sig` body before anything reaches Tencent: a bad item must cost the caller a
 * 400 that names it, not a Tencent call (and its rate budget) that fails for the whole batch.
 *
 * Hand-written rather than a valibot schema: every bad item must be reported at once with its index and
 * ResourceID, duplicates need a cross-item check, and the host rule needs the allow-list; its issue
 * paths would have to be regrouped per item anyway.
 */

/** Tencent's URLs are ~150 characters; 2 KiB leaves room and keeps a batch's size bounded. */
export const MAX_RAW_URL_LENGTH = 2048;
const MAX_RESOURCE_ID = 0xffffffff;
/** The message lists this many items; `details.items` always lists every one. */
const ITEMS_IN_MESSAGE = 5;

export interface CosSigLimits {
  /** Most items in one request (1..maxItems). */
  maxItems: number;
  /** Hosts a RawURL may name (allow-list entries, see util/allow-list.ts). */
  allowHosts: AllowList;
  maxUrlLength?: number;
}

/** One bad item: where it is, which ResourceID it claims (when it has a usable one), what is wrong. */
export interface BadItem {
  index: number;
  ResourceID?: number;
  problems: string[];
}

/** The body's items, exactly as given, once every rule holds; otherwise a ValidationError. */
export function validateCosSigRequest(body: unknown, limits: CosSigLimits): CosSigRequestItem[] {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
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
  const rawUrls = (body as { RawURLs?: unknown }).RawURLs;
  if (!Array.isArray(rawUrls)) {
    throw new ValidationError("RawURLs must be an array of {ResourceID, RawURL} items");
  }
  if (rawUrls.length === 0 || rawUrls.length > limits.maxItems) {
    throw new ValidationError(`RawURLs must hold 1 to ${limits.maxItems} items, got ${rawUrls.length}`, {
      count: rawUrls.length,
      maxItems: limits.maxItems,
    });
  }

  const maxUrlLength = limits.maxUrlLength ?? MAX_RAW_URL_LENGTH;
  const firstIndexOf = new Map<number, number>();
  const bad: BadItem[] = [];
  rawUrls.forEach((item: unknown, index) => {
    const problems = checkItem(item, maxUrlLength, limits.allowHosts);
    const id = (item as { ResourceID?: unknown } | null)?.ResourceID;
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

function checkItem(item: unknown, maxUrlLength: number, allowHosts: AllowList): string[] {
  if (item === null || typeof item !== "object" || Array.isArray(item)) {
    return ["must be an object {ResourceID, RawURL}"];
  }
  const problems: string[] = [];
  const extra = Object.keys(item).filter((k) => k !== "ResourceID" && k !== "RawURL");
  if (extra.length > 0) problems.push(`has fields other than ResourceID and RawURL: ${extra.join(", ")}`);
  const { ResourceID: id, RawURL: raw } = item as { ResourceID?: unknown; RawURL?: unknown };
  if (id === undefined) problems.push("ResourceID is missing");
  else if (!isResourceId(id)) problems.push("ResourceID must be an integer from 0 to 4294967295");
  if (raw === undefined) problems.push("RawURL is missing");
  else if (typeof raw !== "string") problems.push("RawURL must be a string");
  else {
    const problem = urlProblem(raw, maxUrlLength, allowHosts);
    if (problem !== undefined) problems.push(problem);
  }
  return problems;
}

/** Why the URL cannot be looked up, or undefined. Names the host, never echoes the whole URL. */
function urlProblem(raw: string, maxUrlLength: number, allowHosts: AllowList): string | undefined {
  if (raw.length === 0) return "RawURL is empty";
  if (raw.length > maxUrlLength) return `RawURL is ${raw.length} characters, more than ${maxUrlLength}`;
  const url = tryParseUrl(raw);
  if (url === undefined) return "RawURL is not an absolute URL";
  if (url.username !== "" || url.password !== "") return "RawURL must not carry credentials";
  if (isUrlAllowed(url, allowHosts)) return undefined;
  if (url.protocol !== "https:") return `RawURL must be https, got ${url.protocol.replace(/:$/, "")}`;
  return `RawURL host ${url.host} is not on the allowed hosts (${allowHosts.join(", ")}; COS_URL_HOSTS)`;
}

function isResourceId(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= MAX_RESOURCE_ID;
}

function describe(item: BadItem): string {
  const id = item.ResourceID === undefined ? "" : ` (ResourceID ${item.ResourceID})`;
  return `item ${item.index}${id}: ${item.problems.join(", ")}`;
}
