/**
 * Where settings live: SST's linked resources in AWS (`Resource.ImApp.rateLimit`, …; see the
 * deployment), the environment on one machine. `readGroup` gathers a group's raw values under their
 * keys, with the name each has for the operator; `parseGroup` validates them with the group's schema
 * and throws one ConfigError naming every problem.
 */
import { ConfigError } from "@imvault/im-core";
// The smallest entry point of `sst`: the Resource proxy alone (node:crypto/fs), not the SDK helpers.
import { Resource } from "sst/resource";
import * as v from "valibot";

/**
 * Where one setting lives: the environment variable `env` on one machine; in AWS the link `link`
 * ("Resource.Property"), and a setting without one is not read there (it has its default).
 */
export interface Where {
  env: string;
  link?: `${string}.${string}` | undefined;
}

/** True when SST's links are present (a deployed function, or `sst dev`/`sst shell`). */
export function inAws(): boolean {
  try {
    return "App" in Resource;
  } catch {
    // SST parses SST_RESOURCE_* JSON and decrypts SST_KEY_FILE here; its error text may quote a value.
    throw new ConfigError("SST_RESOURCE_* / SST_KEY_FILE", "could not be read as SST's linked resources");
  }
}

interface Problem {
  setting: string;
  problem: string;
}

export interface RawGroup<K extends string> {
  aws: boolean;
  /** Each key's raw value; undefined when unset (blank text and null count as unset). */
  input: Record<K, unknown>;
  /** Each key's name as the operator knows it: the variable, or `Resource.<Name>.<property>`. */
  names: Record<K, string>;
  /** Keys whose resource is not linked: already reported, so their own problems are not. */
  quiet: Set<string>;
  /** Resources that are not linked, or not objects. */
  problems: Problem[];
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null && !(typeof value === "string" && value.trim() === "");
}

/** A group's raw values from the links (in AWS) or the environment. Nothing is read at import. */
export function readGroup<K extends string>(where: Record<K, Where>): RawGroup<K> {
  const aws = inAws();
  const group: RawGroup<K> = {
    aws,
    input: {} as Record<K, unknown>,
    names: {} as Record<K, string>,
    quiet: new Set(),
    problems: [],
  };
  const links = Resource as unknown as Record<string, unknown>;
  const checked = new Map<string, Record<string, unknown> | undefined>();
  const resource = (name: string) => {
    if (checked.has(name)) return checked.get(name);
    let value: Record<string, unknown> | undefined;
    if (!(name in links)) {
      group.problems.push({
        setting: `Resource.${name}`,
        problem: "is not linked to this function (link it in sst.config.ts)",
      });
    } else if (typeof links[name] !== "object" || links[name] === null) {
      group.problems.push({ setting: `Resource.${name}`, problem: "is not an object" });
    } else {
      value = links[name] as Record<string, unknown>;
    }
    checked.set(name, value);
    return value;
  };
  for (const key of Object.keys(where) as K[]) {
    const { link, env } = where[key];
    let raw: unknown;
    if (aws && link !== undefined) {
      const [name = "", property = ""] = link.split(".");
      group.names[key] = `Resource.${link}`;
      const object = resource(name);
      if (object === undefined) group.quiet.add(key);
      raw = object?.[property];
    } else {
      group.names[key] = env;
      raw = aws ? undefined : process.env[env];
    }
    // Every key is present (unset ones as undefined), so each setting's own schema says what is missing.
    group.input[key] = present(raw) ? raw : undefined;
  }
  return group;
}

/** The group's settings, validated; or one ConfigError naming each problem (resources first). */
export function parseGroup<K extends string, S extends v.GenericSchema>(
  group: RawGroup<K>,
  schema: S,
): v.InferOutput<S> {
  const result = v.safeParse(schema, group.input, { abortEarly: false });
  const problems = [...group.problems];
  for (const issue of result.issues ?? []) {
    // Every issue is on one setting of the group: its schemas and rules say so.
    const key = issue.path?.[0]?.key as K;
    if (!group.quiet.has(key)) problems.push({ setting: group.names[key], problem: issue.message });
  }
  const [first, ...rest] = problems;
  if (first !== undefined) {
    if (rest.length === 0) throw new ConfigError(first.setting, first.problem);
    throw new ConfigError(
      problems.map((p) => p.setting).join(", "),
      `are missing or invalid: ${problems.map((p) => `${p.setting} ${p.problem}`).join("; ")}`,
    );
  }
  // No problem left means no issue: each was reported, or quiet behind its resource's problem.
  return result.output as v.InferOutput<S>;
}
