import type { request as httpRequest } from "node:http";

/**
 * node:http's or node:https's `request`, as the URL's protocol needs; any other protocol throws.
 * Through process.getBuiltinModule, not `import`: an ESM import of node:http builds its namespace,
 * which reads its lazy WebSocket/CloseEvent/MessageEvent getters and so loads undici (~30 ms,
 * Node 24), which neither the IM client nor the downloads need.
 */
export function requestFor(url: URL): typeof httpRequest {
  if (url.protocol === "https:") return process.getBuiltinModule("node:https").request;
  if (url.protocol === "http:") return process.getBuiltinModule("node:http").request;
  throw new Error(`unsupported protocol ${url.protocol}`);
}
