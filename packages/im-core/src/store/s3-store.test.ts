import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  type Answer,
  errorXml,
  MiB,
  multipartResponder,
  PRECONDITION_FAILED,
  type SeenRequest,
  stubbedS3,
  zeros,
} from "../../testing/s3-stub.ts";
import { AlreadyExistsError, NotFoundError, StoreUnavailableError, ValidationError } from "../errors.ts";
import { createS3Store } from "./s3-store.ts";

/**
 * The S3 adapter against a stubbed HTTP layer (testing/s3-stub.ts): what is tested is the adapter's
 * reading of the errors S3 actually sends (the emulator used by the system tests cannot produce a 412).
 */
describe("S3 store: conditional put", () => {
  it("sends If-None-Match: * on PutObject and maps S3's 412 to AlreadyExistsError", async () => {
    const { client, seen } = stubbedS3(() => PRECONDITION_FAILED);
    const store = createS3Store({ client, bucket: "b" });

    const outcome = store.put("manifests/x.json", "{}", { ifNoneMatch: true });

    await expect(outcome).rejects.toBeInstanceOf(AlreadyExistsError);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.method).toBe("PUT");
    expect(seen[0]?.headers["if-none-match"]).toBe("*");
  });

  it("sends no If-None-Match without ifNoneMatch", async () => {
    const { client, seen } = stubbedS3(() => ({ status: 200, headers: { etag: '"e"' } }));
    const store = createS3Store({ client, bucket: "b" });

    await store.put("raw/x.gz", Buffer.from("x"));

    expect(seen[0]?.headers["if-none-match"]).toBeUndefined();
  });

  it("sends If-None-Match: * on CompleteMultipartUpload of a stream, maps its 412, and aborts the upload", async () => {
    const { client, seen } = stubbedS3(multipartResponder(PRECONDITION_FAILED));
    const store = createS3Store({ client, bucket: "b", partSizeBytes: 5 * MiB });

    const outcome = store.put("manifests/big.json", zeros(11 * MiB).stream, { ifNoneMatch: true });

    await expect(outcome).rejects.toBeInstanceOf(AlreadyExistsError);
    const complete = seen.find((r) => r.method === "POST" && "uploadId" in r.query);
    expect(complete?.headers["if-none-match"]).toBe("*");
    expect(seen.filter((r) => r.method === "PUT" && "partNumber" in r.query)).toHaveLength(3);
    expect(seen.some((r) => r.method === "DELETE" && r.query.uploadId === "up-1")).toBe(true);
  });

  it("passes other S3 errors through unchanged", async () => {
    const { client } = stubbedS3(() => ({ status: 500, body: errorXml("InternalError", "try again") }));
    const store = createS3Store({ client, bucket: "b" });

    const outcome = store.put("raw/x.gz", "x", { ifNoneMatch: true });

    await expect(outcome).rejects.toMatchObject({ name: "InternalError" });
    await expect(outcome).rejects.not.toBeInstanceOf(AlreadyExistsError);
    await expect(outcome).rejects.not.toBeInstanceOf(StoreUnavailableError);
  });

  it.each([
    [403, "AccessDenied"],
    [404, "NoSuchBucket"],
  ])(
    "maps a %i %s to a StoreUnavailableError naming bucket, key and code, never retryable",
    async (status, code) => {
      const { client } = stubbedS3(() => ({ status, body: errorXml(code, "refused") }));
      const store = createS3Store({ client, bucket: "b" });

      const outcome = store.put("raw/x.gz", "x", { ifNoneMatch: true });

      await expect(outcome).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(outcome).rejects.toMatchObject({
        message: `the S3 store cannot write s3://b/raw/x.gz: ${code}`,
        code,
        retryable: false,
      });
    },
  );

  it("a stream put refused before its first part rejects with StoreUnavailableError and destroys the body", async () => {
    const { client } = stubbedS3(() => ({ status: 403, body: errorXml("AccessDenied", "Access Denied") }));
    const store = createS3Store({ client, bucket: "b", partSizeBytes: 5 * MiB });
    const body = zeros(64 * MiB);

    const outcome = store.put("raw/big.gz", body.stream, { ifNoneMatch: true });

    await expect(outcome).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(body.stream.destroyed).toBe(true);
    expect(body.produced()).toBeLessThan(64 * MiB);
  });
});

describe("S3 store: reads", () => {
  it("get maps NoSuchKey to NotFoundError", async () => {
    const { client } = stubbedS3(() => ({
      status: 404,
      body: errorXml("NoSuchKey", "The specified key does not exist."),
    }));
    const store = createS3Store({ client, bucket: "b" });

    await expect(store.get("raw/missing.gz")).rejects.toBeInstanceOf(NotFoundError);
  });

  it("head answers undefined for a 404 and rethrows a 403", async () => {
    let status = 404;
    const { client } = stubbedS3(() => ({ status }));
    const store = createS3Store({ client, bucket: "b" });

    const missing = await store.head("raw/missing.gz");
    status = 403;
    const forbidden = store.head("raw/secret.gz");

    expect(missing).toBeUndefined();
    await expect(forbidden).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
  });

  it("list follows continuation tokens across pages", async () => {
    const page = (keys: string[], next?: string) =>
      `<ListBucketResult><Name>b</Name><Prefix>raw/</Prefix><KeyCount>${keys.length}</KeyCount>` +
      `<IsTruncated>${next !== undefined}</IsTruncated>` +
      (next === undefined ? "" : `<NextContinuationToken>${next}</NextContinuationToken>`) +
      keys
        .map(
          (key) =>
            `<Contents><Key>${key}</Key><Size>${key.length}</Size><LastModified>2024-01-01T00:00:00.000Z</LastModified></Contents>`,
        )
        .join("") +
      "</ListBucketResult>";
    const { client, seen } = stubbedS3((request) => ({
      status: 200,
      body: request.query["continuation-token"] === "t2" ? page(["raw/c"]) : page(["raw/a", "raw/bb"], "t2"),
    }));
    const store = createS3Store({ client, bucket: "b" });

    const found: Array<[string, number]> = [];
    for await (const info of store.list("raw/")) found.push([info.key, info.size]);

    expect(found).toEqual([
      ["raw/a", 5],
      ["raw/bb", 6],
      ["raw/c", 5],
    ]);
    expect(seen.map((r) => r.query.prefix)).toEqual(["raw/", "raw/"]);
  });
});

describe("S3 store: streaming", () => {
  it("reads a stream body only as fast as parts are sent: memory is bounded by part size, not body size", async () => {
    // Parts are held until released; meanwhile the store may read only a few parts ahead.
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let partsWaiting = 0;
    const { client } = stubbedS3(
      multipartResponder(
        {
          status: 200,
          body: '<CompleteMultipartUploadResult><ETag>"x"</ETag></CompleteMultipartUploadResult>',
        },
        async () => {
          partsWaiting += 1;
          await released;
        },
      ),
    );
    const store = createS3Store({ client, bucket: "b", partSizeBytes: 5 * MiB, queueSize: 2 });
    const body = zeros(200 * MiB);

    const outcome = store.put("raw/huge.gz", body.stream);
    // Let reading run until it stalls: both uploaders blocked and the stream no longer pulled.
    let last = -1;
    for (let turn = 0; turn < 10_000 && (partsWaiting < 2 || body.produced() !== last); turn += 1) {
      last = body.produced();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const readWhileBlocked = body.produced();
    release();
    const answer = await outcome;

    expect(partsWaiting).toBeGreaterThanOrEqual(2);
    // 2 parts in flight + 1 being assembled + stream buffers; far below the 200 MiB body.
    expect(readWhileBlocked).toBeLessThanOrEqual(4 * 5 * MiB);
    expect(answer).toEqual({ size: 200 * MiB });
  }, 30_000);

  it("rejects part sizes under S3's 5 MiB minimum and a zero queue size", () => {
    const { client } = stubbedS3(() => ({ status: 500 }));

    expect(() => createS3Store({ client, bucket: "b", partSizeBytes: MiB })).toThrow(ValidationError);
    expect(() => createS3Store({ client, bucket: "b", queueSize: 0 })).toThrow(ValidationError);
  });
});

describe("S3 store: payload signing", () => {
  const COMPLETED: Answer = {
    status: 200,
    body: '<CompleteMultipartUploadResult><ETag>"x"</ETag></CompleteMultipartUploadResult>',
  };
  const partsOf = (seen: SeenRequest[]) => seen.filter((r) => r.method === "PUT" && "partNumber" in r.query);
  const signedHeaders = (request: SeenRequest) =>
    /SignedHeaders=([^,]+)/.exec(request.headers.authorization ?? "")?.[1]?.split(";") ?? [];
  const sha256OfZeros = (bytes: number) => createHash("sha256").update(Buffer.alloc(bytes)).digest("hex");

  it.each([
    ["over HTTPS", "https://s3.eu-west-1.amazonaws.com"],
    ["to a loopback emulator", "http://127.0.0.1:9"],
  ])("sends checksummed parts %s as UNSIGNED-PAYLOAD, the SHA-256 header signed", async (_, endpoint) => {
    const { client, seen } = stubbedS3(multipartResponder(COMPLETED), { endpoint });
    const store = createS3Store({ client, bucket: "b" });

    await store.put("raw/x.gz", zeros(11 * MiB).stream);

    const parts = partsOf(seen);
    expect(parts).toHaveLength(3);
    for (const part of parts) {
      expect(part.headers["x-amz-content-sha256"]).toBe("UNSIGNED-PAYLOAD");
      expect(part.headers["x-amz-checksum-sha256"]).toMatch(/^[A-Za-z0-9+/]{43}=$/);
      expect(signedHeaders(part)).toEqual(
        expect.arrayContaining(["x-amz-checksum-sha256", "x-amz-content-sha256"]),
      );
    }
  });

  it("signs each part's SHA-256 over plain HTTP to another host", async () => {
    const { client, seen } = stubbedS3(multipartResponder(COMPLETED), {
      endpoint: "http://s3.internal.example:9000",
    });
    const store = createS3Store({ client, bucket: "b" });

    await store.put("raw/x.gz", zeros(11 * MiB).stream);

    const hashes = partsOf(seen).map((part) => part.headers["x-amz-content-sha256"]);
    expect(hashes).toEqual([sha256OfZeros(5 * MiB), sha256OfZeros(5 * MiB), sha256OfZeros(MiB)]);
  });

  it("checksums each part with SHA-256 even where the client would send no checksum of its own", async () => {
    const { client, seen } = stubbedS3(multipartResponder(COMPLETED), {
      endpoint: "https://s3.eu-west-1.amazonaws.com",
      requestChecksumCalculation: "WHEN_REQUIRED",
    });
    const store = createS3Store({ client, bucket: "b" });

    await store.put("raw/x.gz", zeros(11 * MiB).stream);

    const parts = partsOf(seen);
    const base64 = (hex: string) => Buffer.from(hex, "hex").toString("base64");
    expect(parts.map((part) => part.headers["x-amz-checksum-sha256"])).toEqual([
      base64(sha256OfZeros(5 * MiB)),
      base64(sha256OfZeros(5 * MiB)),
      base64(sha256OfZeros(MiB)),
    ]);
    expect(parts.map((part) => part.headers["x-amz-content-sha256"])).toEqual([
      "UNSIGNED-PAYLOAD",
      "UNSIGNED-PAYLOAD",
      "UNSIGNED-PAYLOAD",
    ]);
  });
});

describe("S3 store: signedUrl", () => {
  it("presigns a GET of the key with the ttl as X-Amz-Expires", async () => {
    const { client } = stubbedS3(() => ({ status: 500 }));
    const store = createS3Store({ client, bucket: "b" });

    const url = new URL(await store.signedUrl("raw/dt=2024-01-01/a b.gz", 900));

    expect(url.pathname).toBe("/b/raw/dt%3D2024-01-01/a%20b.gz");
    expect(url.searchParams.get("X-Amz-Expires")).toBe("900");
    expect(url.searchParams.get("X-Amz-Signature")).toMatch(/^[0-9a-f]{64}$/);
  });

  it("uses the presign function given, and refuses a ttl S3 would not honour", async () => {
    const { client } = stubbedS3(() => ({ status: 500 }));
    const store = createS3Store({
      client,
      bucket: "b",
      presign: async ({ bucket, key, ttlSeconds }) => `https://cdn.example/${bucket}/${key}?t=${ttlSeconds}`,
    });

    expect(await store.signedUrl("raw/a", 60)).toBe("https://cdn.example/b/raw/a?t=60");
    await expect(store.signedUrl("raw/a", 8 * 24 * 3600)).rejects.toBeInstanceOf(ValidationError);
    await expect(store.signedUrl("raw/a", 0)).rejects.toBeInstanceOf(ValidationError);
  });
});
