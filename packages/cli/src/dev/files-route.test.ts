import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createLocalStore,
  createLocalUrlSigner,
  type LocalUrlSigner,
  mediaKey,
  writeMediaIndexEntry,
} from "@imvault/im-core";
import { sha256Hex } from "@imvault/im-core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { filesRoute } from "./files-route.ts";

/** Media keys through the dev server's signed-URL route, the local stand-in for S3 presigned GETs. */
const COS = "https://cos.ap-shanghai.myqcloud.com/98ec-bucket/0345-1400000000/0612-u1";
// A path as Tencent may write it: a non-ASCII name, percent-encoded, and characters a URL path keeps.
const IMAGE_URL = `${COS}/%E5%9B%BE%E7%89%87%20(1)+a@b.png?imageMogr2/thumbnail/198x`;
const IMAGE = Buffer.from("\x89PNG\r\n\x1a\n<html><script>alert(1)</script>", "latin1");
const UNINDEXED_URL = `${COS}/noindex.bin`;

/** Keys besides media, and the type each is served as. */
const OTHER_KEYS = [
  ["raw/chat_type=C2C/dt=2024-03-01/hour=09/history-1.gz", "application/gzip"],
  ["manifests/chat_type=C2C/dt=2024-03-01/hour=09.json", "application/json"],
  ["exports/0b6c7a9e/export.zip", "application/zip"],
  ["exports/0b6c7a9e/status.json", "application/json"],
] as const;

describe("the dev files route with captured media", () => {
  let dir: string;
  let server: Server;
  let signer: LocalUrlSigner;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "imvault-files-media-"));
    const store = createLocalStore({ root: dir });
    const key = mediaKey(IMAGE_URL);
    await store.put(key, IMAGE);
    await writeMediaIndexEntry(store, {
      version: 1,
      key,
      rawUrl: IMAGE_URL,
      size: IMAGE.length,
      sha256: sha256Hex(IMAGE),
      contentType: "image/png",
      capturedAt: "2024-03-01T09:20:00.000Z",
    });
    await store.put(mediaKey(UNINDEXED_URL), Buffer.from("bytes"));
    for (const other of OTHER_KEYS) await store.put(other[0], Buffer.from("bytes"));
    let route: ReturnType<typeof filesRoute> | undefined;
    server = createServer((req, res) => {
      void route!(req, res).then((handled) => {
        if (!handled) res.writeHead(404).end();
      });
    });
    server.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    signer = createLocalUrlSigner({ baseUrl: base, secret: "a-secret-of-32-bytes-for-testing" });
    route = filesRoute(signer, store);
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it("serves a media key with percent-encoded segments: the exact bytes, the recorded type, never sniffed", async () => {
    const key = mediaKey(IMAGE_URL);

    const response = await fetch(signer.urlFor(key, 60));
    const body = Buffer.from(await response.arrayBuffer());

    expect(key).toContain("%E5%9B%BE");
    expect(response.status).toBe(200);
    expect(body.equals(IMAGE)).toBe(true);
    expect(response.headers.get("content-type")).toBe("image/png");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("content-disposition")).toMatch(/^attachment; /);
  });

  it("serves a media object without an index entry as octet-stream, and refuses a URL signed for another key", async () => {
    const url = signer.urlFor(mediaKey(UNINDEXED_URL), 60);

    const response = await fetch(url);
    const forged = await fetch(url.replace("noindex.bin", "other.bin"));

    expect([response.status, response.headers.get("content-type")]).toEqual([
      200,
      "application/octet-stream",
    ]);
    expect(forged.status).toBe(403);
  });

  it.each(OTHER_KEYS)("serves %s as %s", async (key, type) => {
    const response = await fetch(signer.urlFor(key, 60));

    expect([response.status, response.headers.get("content-type")]).toEqual([200, type]);
  });
});
