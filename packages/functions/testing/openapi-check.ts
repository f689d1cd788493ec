/**
 * A light structural check of JSON values against an OpenAPI 3.1 document's schemas: $ref, type,
 * required, properties, items, enum, const and additionalProperties:false. Enough to catch an answer
 * that drifted from what the document promises, without a JSON Schema validator dependency.
 */

type Json = Record<string, unknown>;

export function resolveRef<T = Json>(doc: Json, node: unknown): T {
  let current = node as Json;
  for (let depth = 0; typeof current?.$ref === "string" && depth < 10; depth++) {
    const ref = current.$ref as string;
    if (!ref.startsWith("#/")) throw new Error(`only local $refs are supported, got ${ref}`);
    current = ref
      .slice(2)
      .split("/")
      .reduce<unknown>((at, part) => (at as Json | undefined)?.[part], doc) as Json;
    if (current === undefined) throw new Error(`$ref ${ref} does not resolve`);
  }
  return current as T;
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

/** Every way `value` fails `schema`, as "$.path: problem" lines; empty when it conforms. */
export function schemaProblems(doc: Json, schemaNode: unknown, value: unknown, at = "$"): string[] {
  const schema = resolveRef(doc, schemaNode);
  const problems: string[] = [];
  const type = schema.type as string | undefined;
  const actual = typeOf(value);
  if (type !== undefined && actual !== type && !(type === "number" && actual === "integer")) {
    return [`${at}: expected ${type}, got ${actual}`];
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(value))
    problems.push(`${at}: ${String(value)} not in enum`);
  if ("const" in schema && schema.const !== value) problems.push(`${at}: expected ${String(schema.const)}`);
  if (actual === "object") {
    const obj = value as Json;
    for (const name of (schema.required as string[] | undefined) ?? []) {
      if (!(name in obj)) problems.push(`${at}: missing required ${name}`);
    }
    const props = (schema.properties as Json | undefined) ?? {};
    for (const [name, sub] of Object.entries(obj)) {
      if (name in props) problems.push(...schemaProblems(doc, props[name], sub, `${at}.${name}`));
      else if (schema.additionalProperties === false) problems.push(`${at}: unexpected property ${name}`);
    }
  }
  if (actual === "array" && schema.items !== undefined) {
    (value as unknown[]).forEach((item, i) => {
      problems.push(...schemaProblems(doc, schema.items, item, `${at}[${i}]`));
    });
  }
  return problems;
}

/** The document's path template matching a concrete path, e.g. /v1/archive/{chatType}/{msgTime}. */
export function matchPathTemplate(doc: Json, path: string): string | undefined {
  const paths = Object.keys(doc.paths as Json);
  return paths.find((template) => {
    const pattern = template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+");
    return new RegExp(`^${pattern}$`).test(path);
  });
}
