import type { IncomingMessage, ServerResponse } from "node:http";
import type { SimContext } from "./context.ts";
import { type FaultProbabilities, type FaultSpec, type FaultTuning, faultSpecProblem } from "./faults.ts";
import { readBody, sendJson } from "./http-util.ts";

/**
 * The control surface for tests and chaos runs in other processes (loopback only, like the rest):
 *   GET    /__sim/info       the app, admins and settings (never the secret key)
 *   GET    /__sim/requests   {requests, downloads} seen so far
 *   DELETE /__sim/requests   forget them
 *   GET    /__sim/faults     queued faults and the random setting
 *   POST   /__sim/faults     {"next": spec | [spec]} | {"random": {kind: p}, "seed"?, "tuning"?} | {"clear": true}
 *   POST   /__sim/media      {"sizes": {"<media RawURL>": bytes, …}}
 */
export async function handleControl(
  sim: SimContext,
  info: () => Record<string, unknown>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const path = new URL(req.url ?? "/", "http://sim.invalid").pathname;
  const route = `${req.method} ${path}`;
  if (route === "GET /__sim/info") return sendJson(res, 200, info());
  if (route === "GET /__sim/requests")
    return sendJson(res, 200, { requests: sim.requests, downloads: sim.downloads });
  if (route === "DELETE /__sim/requests") {
    sim.requests.length = 0;
    sim.downloads.length = 0;
    return sendJson(res, 200, { ok: true });
  }
  if (route === "GET /__sim/faults") return sendJson(res, 200, sim.faults.pending());
  if (route === "POST /__sim/faults") {
    const text = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(text ?? "");
    } catch {
      return sendJson(res, 400, { error: "body must be JSON" });
    }
    const problem = applyFaults(sim, body);
    if (problem !== undefined) return sendJson(res, 400, { error: problem });
    return sendJson(res, 200, sim.faults.pending());
  }
  if (route === "POST /__sim/media") {
    const problem = applyMediaSizes(sim, await readBody(req));
    if (problem !== undefined) return sendJson(res, 400, { error: problem });
    return sendJson(res, 200, { ok: true });
  }
  sendJson(res, 404, { error: `no control route ${route}` });
}

function applyFaults(sim: SimContext, body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return "body must be an object";
  const b = body as { next?: unknown; random?: unknown; seed?: unknown; tuning?: unknown; clear?: unknown };
  if (b.clear === true) sim.faults.clear();
  if (b.next !== undefined) {
    const specs = Array.isArray(b.next) ? b.next : [b.next];
    for (const s of specs) {
      const problem = faultSpecProblem(s);
      if (problem !== undefined) return problem;
    }
    sim.faults.next(specs as FaultSpec[]);
  }
  if (b.random !== undefined) {
    if (typeof b.random !== "object" || b.random === null) return "random must be an object of probabilities";
    try {
      sim.faults.random(
        b.random as FaultProbabilities,
        typeof b.seed === "string" || typeof b.seed === "number" ? b.seed : undefined,
        (b.tuning ?? {}) as FaultTuning,
      );
    } catch (err) {
      return (err as Error).message;
    }
  }
  if (b.clear !== true && b.next === undefined && b.random === undefined)
    return 'expected "next", "random" or "clear"';
  return undefined;
}

function applyMediaSizes(sim: SimContext, text: string | undefined): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text ?? "");
  } catch {
    return "body must be JSON";
  }
  const sizes = (body as { sizes?: unknown } | null)?.sizes;
  if (typeof sizes !== "object" || sizes === null || Array.isArray(sizes)) {
    return 'expected {"sizes": {"<media RawURL>": bytes}}';
  }
  try {
    for (const [rawUrl, bytes] of Object.entries(sizes)) sim.setMediaSize(rawUrl, bytes as number);
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
}
