/**
 * What a route of the API's table (app.ts) is, how a request finds its route, and which query
 * parameters it takes.
 */
import { NotFoundError, ValidationError } from "@imvault/im-core";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { MethodNotAllowedError } from "./errors.ts";
import type { OpenApiDocument } from "./openapi.ts";

export interface RequestScope {
  event: APIGatewayProxyEventV2;
  params: string[];
  keyName: string | undefined;
  requestId: string;
  signal: AbortSignal;
}

export interface Route {
  /** GET routes that also answer HEAD list it (the answer then has no body). */
  methods: readonly string[];
  pattern: RegExp;
  /** The route's name in logs and metrics (never the raw path: that would explode metric dimensions). */
  name: string;
  auth: boolean;
  /**
   * The route's path in the OpenAPI document: the query parameters it lists are the ones the route
   * takes, and any other is refused (a misspelt one would otherwise be ignored without a word). None
   * for /v1/health (a probe may append what it likes) and the console's routes: they take any.
   */
  doc?: string;
  run: (req: RequestScope) => Promise<unknown> | unknown;
}

/** A route's answer with a status other than 200. */
export class Reply {
  readonly status: number;
  readonly body: unknown;
  constructor(status: number, body: unknown) {
    this.status = status;
    this.body = body;
  }
}

/** The query parameters an operation of the OpenAPI document lists (HEAD: GET's). */
export function queryNames(openapi: OpenApiDocument, path: string, method: string): string[] {
  const operation = openapi.paths[path]?.[method === "HEAD" ? "get" : method.toLowerCase()];
  return (operation?.parameters ?? []).filter((p) => p.in === "query").map((p) => String(p.name));
}

/** The path the routes see: rawPath without a named stage's prefix (`$default` has none). */
export function routePath(event: APIGatewayProxyEventV2): string {
  let path = event.rawPath ?? event.requestContext?.http?.path ?? "/";
  const stage = event.requestContext?.stage;
  if (stage !== undefined && stage !== "$default" && path.startsWith(`/${stage}/`))
    path = path.slice(stage.length + 1);
  return path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
}

export function matchRoute(
  routes: Route[],
  method: string,
  path: string,
): { route: Route; params: string[] } {
  const allowed: string[] = [];
  for (const route of routes) {
    const m = route.pattern.exec(path);
    if (m === null) continue;
    if (!route.methods.includes(method)) {
      allowed.push(...route.methods);
      continue;
    }
    try {
      return { route, params: m.slice(1).map((p) => decodeURIComponent(p)) };
    } catch {
      throw new ValidationError("the path has a malformed percent-encoding");
    }
  }
  if (allowed.length > 0) throw new MethodNotAllowedError(method, path, allowed);
  throw new NotFoundError(`no route ${method} ${path}; GET /v1/openapi.json (with an API key) lists them`, {
    details: { method, path: path.slice(0, 200) },
  });
}
