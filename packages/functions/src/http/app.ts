/**
 * The lookup API of SPEC "HTTP API" over API Gateway HTTP API (payload v2) events, with its deps
 * injected: routing and shaping only; validation, lookups and archive views live in im-core's
 * lookup/, the error → HTTP mapping in ./errors.ts. `../api.ts` builds the deps from the settings.
 */

import type { ConsoleSite } from "@imvault/console/site";
import type { ArchiveStore, Clock, JobQueue, Logger, SearchService } from "@imvault/im-core";
import {
  archivedHour,
  bannedMedia,
  bannedMediaWindow,
  createAuthenticator,
  DEFAULTS,
  exportStatus,
  type LookupDeps,
  lookupCosSig,
  lookupMedia,
  mediaKeyOfRequest,
  NotFoundError,
  parseSearchBody,
  parseStatusHours,
  recentCoverage,
  redactText,
  startExport,
  startSearch,
  validateCosSigRequest,
} from "@imvault/im-core";
import type { ApiConfig } from "@imvault/runtime";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { createConsoleRoutes, RawAnswer } from "./console.ts";
import { toHttpError } from "./errors.ts";
import { openApiDocument } from "./openapi.ts";
import {
  authorizationHeader,
  COS_SIG_BODY,
  EXPORT_BODY,
  oneQueryValue,
  readJsonBody,
  refuseUnknownQuery,
  SEARCH_BODY,
} from "./request.ts";
import { matchRoute, queryNames, Reply, type Route, routePath } from "./routing.ts";

export interface ApiDeps {
  /** getCosSig bound to the shared ImClient. */
  getCosSig: LookupDeps["getCosSig"];
  store: ArchiveStore;
  clock: Clock;
  logger: Logger;
  /** Counts one answered request (ApiRequests by status and route). */
  countRequest?: (status: number, route: string) => void;
  /** Message searches (`/v1/searches`): DuckDB on one machine, Athena in AWS; none without either. */
  searches?: SearchService;
  /**
   * The job queue that export jobs go on (`/v1/exports`; the archive function runs them); without
   * it the export routes answer 404.
   */
  exportQueue?: JobQueue;
  /** Values blanked from anything the handler logs (the IM secret key); API tokens are added. */
  secrets?: readonly string[];
  config: ApiConfig;
  /**
   * The web console served at `/` (the built @imvault/console) and the archive settings its
   * "at risk" view needs; without it `/` answers 404.
   */
  console?: { site: ConsoleSite; settleHours: number; retentionDays: number };
}

export type ApiHandler = (
  event: APIGatewayProxyEventV2,
  context?: Pick<Context, "getRemainingTimeInMillis">,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** API Gateway's HTTP API gives up at 30 s; stop asking Tencent a little before either deadline. */
const MAX_REQUEST_MS = 29_000;
const DEADLINE_MARGIN_MS = 500;

const JSON_HEADERS = {
  "content-type": "application/json; charset=utf-8",
  // Answers carry signed URLs: no cache along the way may keep them.
  "cache-control": "no-store",
};

export function createApiHandler(deps: ApiDeps): ApiHandler {
  const { config, logger, clock } = deps;
  const authenticate = createAuthenticator(config.apiKeys);
  const openapi = openApiDocument({ maxItems: config.maxItems, maxBodyBytes: config.maxBodyBytes });
  const lookupDeps: LookupDeps = { getCosSig: deps.getCosSig, logger, clock };
  const view = { store: deps.store, clock };
  const secrets = [...(deps.secrets ?? []), ...config.apiKeys.map((k) => k.token)];
  const site = createConsoleRoutes(deps.console?.site, {
    config: {
      lookbackHours: config.lookbackHours,
      settleHours: deps.console?.settleHours ?? DEFAULTS.settleHours,
      retentionDays: deps.console?.retentionDays ?? DEFAULTS.retentionDays,
    },
    cosUrlHosts: config.cosUrlHosts,
    storeOrigin: async () => new URL(await deps.store.signedUrl("media/.console-origin", 60)).origin,
  });

  const searches = (): SearchService => {
    if (deps.searches === undefined) {
      throw new NotFoundError(
        "message searches are not available on this deployment (no message table engine)",
      );
    }
    return deps.searches;
  };

  const exportQueue = (): JobQueue => {
    if (deps.exportQueue === undefined) {
      throw new NotFoundError("exports are not available on this deployment (no job queue)");
    }
    return deps.exportQueue;
  };

  // Fixed routes: a table of method + pattern is all the routing there is, and it keeps the
  // handler free of a framework's own error, body and header handling (ours is toHttpError's job).
  const routes: Route[] = [
    {
      methods: ["GET", "HEAD"],
      pattern: /^\/v1\/health$/,
      name: "health",
      auth: false,
      run: () => ({ status: "ok" }),
    },
    {
      methods: ["GET"],
      pattern: /^\/v1\/openapi\.json$/,
      doc: "/v1/openapi.json",
      name: "openapi",
      auth: true,
      run: () => openapi,
    },
    {
      methods: ["POST"],
      pattern: /^\/v1\/cos-sig$/,
      doc: "/v1/cos-sig",
      name: "cos-sig",
      auth: true,
      run: async (req) => {
        const items = validateCosSigRequest(readJsonBody(req.event, config.maxBodyBytes, COS_SIG_BODY), {
          maxItems: config.maxItems,
          allowHosts: config.cosUrlHosts,
        });
        const caller = { keyName: req.keyName ?? "", requestId: req.requestId };
        return { PreSigURLs: await lookupCosSig(lookupDeps, items, caller, { signal: req.signal }) };
      },
    },
    {
      methods: ["GET"],
      pattern: /^\/v1\/archive\/([^/]+)\/([^/]+)$/,
      doc: "/v1/archive/{chatType}/{msgTime}",
      name: "archive",
      auth: true,
      run: (req) =>
        archivedHour(
          view,
          req.params[0]!,
          req.params[1]!,
          config.downloadTtlSeconds ?? DEFAULTS.downloadTtlSeconds,
        ),
    },
    {
      methods: ["GET"],
      pattern: /^\/v1\/media$/,
      doc: "/v1/media",
      name: "media",
      auth: true,
      run: (req) => {
        const rawUrl = oneQueryValue(req.event, "rawUrl");
        const key = mediaKeyOfRequest(rawUrl, config.cosUrlHosts);
        const caller = { keyName: req.keyName ?? "", requestId: req.requestId };
        return lookupMedia(
          { ...view, logger },
          rawUrl!,
          key,
          caller,
          config.downloadTtlSeconds ?? DEFAULTS.downloadTtlSeconds,
        );
      },
    },
    {
      methods: ["GET"],
      pattern: /^\/v1\/media\/banned$/,
      doc: "/v1/media/banned",
      name: "media-banned",
      auth: true,
      run: (req) => {
        const window = bannedMediaWindow(
          clock.now(),
          config.lookbackHours,
          oneQueryValue(req.event, "from"),
          oneQueryValue(req.event, "to"),
        );
        const caller = { keyName: req.keyName ?? "", requestId: req.requestId };
        return bannedMedia({ ...view, logger }, window, caller);
      },
    },
    {
      methods: ["GET"],
      pattern: /^\/v1\/status$/,
      doc: "/v1/status",
      name: "status",
      auth: true,
      run: (req) =>
        recentCoverage(view, parseStatusHours(req.event.queryStringParameters?.hours, config.lookbackHours)),
    },
    // The web console, outside /v1 (http/console.ts): the page and its hashed assets, no key needed.
    {
      methods: ["GET", "HEAD"],
      pattern: /^\/$/,
      name: "console",
      auth: false,
      run: (req) => site.page(req.event.headers ?? {}),
    },
    {
      methods: ["GET", "HEAD"],
      pattern: /^\/assets\/([^/]+)$/,
      name: "console-asset",
      auth: false,
      run: (req) => site.asset(req.params[0]!, req.event.headers ?? {}),
    },
    {
      methods: ["POST"],
      pattern: /^\/v1\/searches$/,
      doc: "/v1/searches",
      name: "searches",
      auth: true,
      run: async (req) => {
        const search = parseSearchBody(readJsonBody(req.event, config.maxBodyBytes, SEARCH_BODY));
        const caller = { keyName: req.keyName ?? "", requestId: req.requestId };
        return new Reply(202, await startSearch({ searches: searches(), logger, clock }, search, caller));
      },
    },
    {
      methods: ["GET"],
      pattern: /^\/v1\/searches\/([^/]+)$/,
      doc: "/v1/searches/{id}",
      name: "search",
      auth: true,
      run: (req) => searches().page(req.params[0]!, req.event.queryStringParameters?.cursor),
    },
    {
      methods: ["POST"],
      pattern: /^\/v1\/exports$/,
      doc: "/v1/exports",
      name: "exports",
      auth: true,
      run: async (req) => {
        const queue = exportQueue();
        const body = readJsonBody(req.event, config.maxBodyBytes, EXPORT_BODY);
        const caller = { keyName: req.keyName ?? "", requestId: req.requestId };
        return new Reply(202, await startExport({ store: deps.store, queue, clock, logger }, body, caller));
      },
    },
    {
      methods: ["GET"],
      pattern: /^\/v1\/exports\/([^/]+)$/,
      doc: "/v1/exports/{id}",
      name: "export",
      auth: true,
      run: (req) =>
        exportStatus(
          { ...view, logger },
          req.params[0]!,
          config.downloadTtlSeconds ?? DEFAULTS.downloadTtlSeconds,
          {
            keyName: req.keyName ?? "",
            requestId: req.requestId,
          },
        ),
    },
  ];

  return async (event, context) => {
    const started = clock.now();
    const requestId = event.requestContext?.requestId ?? "unknown";
    const method = (event.requestContext?.http?.method ?? "GET").toUpperCase();
    const path = routePath(event);
    let routeName = "unmatched";
    let keyName: string | undefined;
    let status: number;
    let payload: unknown;
    let headers: Record<string, string> = {};
    let errorCode: string | undefined;
    try {
      const { route, params } = matchRoute(routes, method, path);
      routeName = route.name;
      if (route.auth) keyName = authenticate(authorizationHeader(event)).keyName;
      if (route.doc !== undefined) {
        refuseUnknownQuery(event, queryNames(openapi, route.doc, method), `${method} ${route.doc}`);
      }
      const remaining = context?.getRemainingTimeInMillis?.() ?? MAX_REQUEST_MS;
      const signal = AbortSignal.timeout(
        Math.max(1, Math.min(MAX_REQUEST_MS, remaining - DEADLINE_MARGIN_MS)),
      );
      const answer = await route.run({ event, params, keyName, requestId, signal });
      if (answer instanceof Reply) ({ status, body: payload } = answer);
      else [payload, status] = [answer, answer instanceof RawAnswer ? answer.statusCode : 200];
    } catch (error) {
      const mapped = toHttpError(error);
      ({ status, headers } = mapped);
      payload = mapped.body;
      errorCode = mapped.body.error.code;
      if (status >= 500) {
        logger.error("api request failed", {
          requestId,
          route: routeName,
          status,
          ...describe(error, secrets, status),
        });
      }
    }
    logger.info("api request", {
      requestId,
      method,
      path,
      route: routeName,
      status,
      ...(keyName === undefined ? {} : { keyName }),
      ...(errorCode === undefined ? {} : { errorCode }),
      durationMs: clock.now() - started,
    });
    deps.countRequest?.(status, routeName);
    if (payload instanceof RawAnswer) {
      return {
        statusCode: status,
        headers: { "x-request-id": requestId, ...payload.headers },
        body: method === "HEAD" ? "" : payload.body,
        isBase64Encoded: method !== "HEAD" && payload.isBase64Encoded,
      };
    }
    return {
      statusCode: status,
      headers: { ...JSON_HEADERS, "x-request-id": requestId, ...headers },
      // HEAD: the headers GET would have, no body.
      body: method === "HEAD" ? "" : JSON.stringify(payload),
      isBase64Encoded: false,
    };
  };
}

/**
 * What an operator needs of a failure, redacted: errors from im-core are secret-free already, but an
 * unexpected one (a store or SDK error) may carry anything. The stack only for the unexpected (500).
 */
function describe(error: unknown, secrets: readonly string[], status: number): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: typeof error };
  return {
    error: error.name,
    errorMessage: redactText(error.message, secrets),
    ...(status === 500 && error.stack !== undefined ? { stack: redactText(error.stack, secrets) } : {}),
  };
}
