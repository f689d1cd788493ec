import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import type { ArchiveStore } from "@imvault/im-core";
import {
  FILES_PATH,
  IntegrityError,
  type LocalUrlSigner,
  NotFoundError,
  readMediaIndexEntry,
  ValidationError,
} from "@imvault/im-core";
import { writeError } from "./apigw-event.ts";

/**
 * Serves the local store's signed download URLs (`/files/<key>?expires&sig`), the local stand-in for
 * S3 presigned GETs. Only keys the signer signed are served, and only through the store, which refuses
 * any key that would leave DATA_DIR or reach its private `.imvault/` state. Captured media (`media/…`)
 * are served with the content type recorded when they were fetched, always as an attachment and
 * never sniffed, so that no stored file is ever rendered as a page of this origin.
 */
export function filesRoute(signer: LocalUrlSigner, store: ArchiveStore) {
  return async (request: IncomingMessage, response: ServerResponse): Promise<boolean> => {
    const url = request.url ?? "/";
    if (!url.startsWith(FILES_PATH)) return false;
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.setHeader("allow", "GET, HEAD");
      writeError(response, 405, "method_not_allowed", "signed file URLs answer GET and HEAD only");
      return true;
    }
    const check = signer.verify(url);
    if (!check.ok) {
      const message =
        check.reason === "expired"
          ? "this download URL has expired: ask the API for a fresh one"
          : "invalid download URL";
      writeError(response, 403, "forbidden", message);
      return true;
    }
    let info: Awaited<ReturnType<ArchiveStore["head"]>>;
    try {
      info = await store.head(check.key);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      writeError(response, 403, "forbidden", "invalid download URL");
      return true;
    }
    if (info === undefined) {
      writeError(response, 404, "not_found", "no such file");
      return true;
    }
    const name = check.key.split("/").at(-1) ?? "file";
    response.writeHead(200, {
      "content-type": await contentTypeOf(store, check.key, name),
      "x-content-type-options": "nosniff",
      "content-length": String(info.size),
      "content-disposition": `attachment; filename="${name.replace(/[^A-Za-z0-9._-]/g, "_")}"`,
      "cache-control": "private, no-store",
    });
    if (request.method === "HEAD") {
      response.end();
      return true;
    }
    try {
      await pipeline(await store.get(check.key), response);
    } catch (error) {
      if (error instanceof NotFoundError) response.destroy();
      else throw error;
    }
    return true;
  };
}

/**
 * The recorded type for media (octet-stream if none); for the rest, by the few kinds of file the
 * store holds: JSON (manifests, digests, an export's status), GZip (history files), zip (an API
 * export's export.zip).
 */
async function contentTypeOf(store: ArchiveStore, key: string, name: string): Promise<string> {
  if (key.startsWith("media/")) {
    const entry = await readMediaIndexEntry(store, key).catch((error: unknown) => {
      if (error instanceof IntegrityError) return undefined;
      throw error;
    });
    return entry?.contentType ?? "application/octet-stream";
  }
  if (name.endsWith(".json")) return "application/json";
  if (name.endsWith(".zip")) return "application/zip";
  return key.startsWith("raw/") || name.endsWith(".gz") ? "application/gzip" : "application/octet-stream";
}
