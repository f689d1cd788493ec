/**
 * The API handler wired for tests: an archive with two hours on disk, Tencent answered by a fake,
 * fixed keys and clock, and helpers to build requests and read answers. Shared by the handler's tests
 * and its OpenAPI contract test.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type CosSigRequestItem,
  type CosSigResult,
  createLocalStore,
  type LocalArchiveStore,
  type Manifest,
  mediaKey,
  writeManifest,
  writeMediaIndexEntry,
  writeMediaManifest,
} from "@imvault/im-core";
import { FakeClock, recordingLogger, sha256Hex } from "@imvault/im-core/testing";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { afterAll, beforeAll, vi } from "vitest";
import { type ApiDeps, createApiHandler } from "../src/http/app.ts";
import { type ApiGatewayEventInit, apiGatewayEvent } from "./apigw-event.ts";

export const OPS_TOKEN = "tok-ops-7Hq2xV9pLmQ4";
export const MOD_TOKEN = "tok-mod-Zk4wR8sNe3Yb";
export const KEYS = [
  { name: "ops", token: OPS_TOKEN },
  { name: "moderation", token: MOD_TOKEN },
];
export const AUTH = { authorization: `Bearer ${MOD_TOKEN}` };
// 18:30 Beijing: the last ended hour is 2024030117.
export const NOW = Date.parse("2024-03-01T10:30:00Z");
export const COS =
  "https://cos.ap-shanghai.myqcloud.com/98ec-shanghai-007-privatev2-01-1256635546/0345-1400187352/0612-yyy";
const MD5 = "0123456789abcdef0123456789abcdef";

/** Tencent-like answers: Status = ResourceID % 3 (0 normal, 1 banned, 2 missing). */
export function answer(items: CosSigRequestItem[]): CosSigResult[] {
  const texts = ["normal", "banned", "missing"] as const;
  return items.map((i) => ({
    ResourceID: i.ResourceID,
    Code: 0,
    Desc: "",
    PreSigURL: `${i.RawURL}?sign=q-sign-${i.ResourceID}&im-time-expired=1709289900`,
    Status: i.ResourceID % 3,
    StatusText: texts[i.ResourceID % 3]!,
    ExpiresAt: "2024-03-01T10:45:00.000Z",
  }));
}

export function manifest(chatType: "C2C" | "Group", msgTime: string, files: string[]): Manifest {
  return {
    version: 1,
    chatType,
    msgTime,
    status: files.length > 0 ? "archived" : "empty",
    files: files.map((name) => ({
      key: `raw/chat_type=${chatType}/dt=2024-03-01/hour=${msgTime.slice(8)}/${name}`,
      sourceUrl: `https://download.tim.qq.com/${name}`,
      gzipSize: 120,
      gzipMd5: MD5,
      fileSize: 400,
      fileMd5: MD5,
      messageCount: 9,
    })),
    archivedAt: "2024-03-01T09:10:00.000Z",
  };
}

/** A media URL of C2C 2024030116 whose bytes are archived (banned when they were fetched). */
export const MEDIA_URL = `${COS}/9a0f4c42d208ccfb5aa47c29284aefc8.png`;
/** A media URL of C2C 2024030116 that Tencent no longer had. */
export const MISSING_MEDIA_URL = `${COS}/9a0f4c42d208ccfb5aa47c29284aefc9.mp4`;
export const MEDIA_BYTES = Buffer.from("\x89PNG\r\n\x1a\n imvault media fixture", "latin1");

/**
 * archiveFixture for one test file: made before its tests (handed to `use`), removed after them.
 */
export function useArchiveFixture(use: (fixture: { dir: string; store: LocalArchiveStore }) => void): void {
  let remove: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const fixture = await archiveFixture();
    remove = fixture.remove;
    use(fixture);
  });
  afterAll(async () => {
    await remove?.();
  });
}

/**
 * A local archive in a temp directory: C2C 2024030116 archived (a.gz, b.gz) with its media captured
 * (MEDIA_URL stored, MISSING_MEDIA_URL missing), Group 2024030117 empty, its media not captured yet.
 */
export async function archiveFixture(): Promise<{
  dir: string;
  store: LocalArchiveStore;
  remove(): Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), "imvault-api-"));
  const store = createLocalStore({
    root: dir,
    urlFor: (key, ttl) => `https://files.test/${key}?ttl=${ttl}`,
  });
  await writeManifest(store, manifest("C2C", "2024030116", ["a.gz", "b.gz"]));
  await writeManifest(store, manifest("Group", "2024030117", []));
  const key = mediaKey(MEDIA_URL);
  const facts = { size: MEDIA_BYTES.length, sha256: sha256Hex(MEDIA_BYTES), contentType: "image/png" };
  await store.put(key, MEDIA_BYTES, { contentType: "image/png" });
  await writeMediaIndexEntry(store, {
    version: 1,
    key,
    rawUrl: MEDIA_URL,
    ...facts,
    tencentStatus: 1,
    capturedAt: "2024-03-01T09:20:00.000Z",
  });
  await writeMediaManifest(store, {
    version: 1,
    chatType: "C2C",
    msgTime: "2024030116",
    items: [
      { rawUrl: MEDIA_URL, status: "captured", tencentStatus: 1, key, ...facts },
      { rawUrl: MISSING_MEDIA_URL, status: "missing", tencentStatus: 2 },
    ],
    capturedAt: "2024-03-01T09:20:00.000Z",
  });
  return { dir, store, remove: () => rm(dir, { recursive: true, force: true }) };
}

export function apiHarness(deps: Pick<ApiDeps, "store"> & Partial<ApiDeps>) {
  const logger = recordingLogger();
  const counts: [number, string][] = [];
  const fakeCosSig = vi.fn(async (items: CosSigRequestItem[]) => answer(items));
  const handle = createApiHandler({
    getCosSig: fakeCosSig,
    clock: new FakeClock(NOW),
    logger,
    countRequest: (status, route) => counts.push([status, route]),
    config: {
      apiKeys: KEYS,
      cosUrlHosts: ["*.myqcloud.com", "*.tim.qq.com", "*.im.qcloud.com", "*.my-imcloud.com"],
      maxItems: 5,
      maxBodyBytes: 4096,
      lookbackHours: 3,
    },
    ...deps,
  });
  const call = (init: ApiGatewayEventInit) => handle(apiGatewayEvent(init));
  return { handle, call, logger, counts, getCosSig: fakeCosSig };
}

export const json = (res: APIGatewayProxyStructuredResultV2) =>
  // biome-ignore lint/suspicious/noExplicitAny: the tests read into JSON answers whose shape they assert
  JSON.parse(res.body ?? "") as Record<string, any>;

export const cosSig = (
  body: unknown,
  headers: Record<string, string> = AUTH,
  extra: Partial<ApiGatewayEventInit> = {},
) =>
  ({
    method: "POST",
    path: "/v1/cos-sig",
    headers,
    body: body as object,
    ...extra,
  }) satisfies ApiGatewayEventInit;

export const twoItems = {
  RawURLs: [
    { ResourceID: 1, RawURL: `${COS}/9a0f4c42d208ccfb5aa47c29284aefc6.png` },
    { ResourceID: 2, RawURL: `${COS}/9a0f4c42d208ccfb5aa47c29284aefc7.png` },
  ],
};
