import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { MiB, multipartResponder, stubbedS3, zeros } from "../../testing/s3-stub.ts";
import { createS3Store } from "./s3-store.ts";

/** Every put carries a SHA-256 checksum (x-amz-checksum-sha256), locked or not (see checksumParams). */

const ok = () => ({ status: 200, headers: { etag: '"e"' } });
const sha256Base64 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("base64");

describe("S3 store: SHA-256 checksums on put", () => {
  it("a put of bytes sends ChecksumSHA256, the base64 SHA-256 of the whole body, without a lock", async () => {
    const { client, seen } = stubbedS3(ok);
    const store = createS3Store({ client, bucket: "b" });
    const body = Buffer.from('{"version":1,"files":[]}\n');

    await store.put("manifests/chat_type=C2C/dt=2027-05-01/hour=10.json", body, { ifNoneMatch: true });

    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers["x-amz-checksum-sha256"]).toBe(sha256Base64(body));
    expect(seen[0]!.headers["x-amz-checksum-crc32"]).toBeUndefined();
  });

  it("a streamed raw file that fits one request is sent with the SHA-256 of the whole file", async () => {
    const { client, seen } = stubbedS3(ok);
    const store = createS3Store({ client, bucket: "b" });
    const gzip = Buffer.from("not really gzip, but bytes the store must checksum as they are");

    await store.put("raw/chat_type=C2C/dt=2027-05-01/hour=10/a.gz", Readable.from([gzip]), {
      ifNoneMatch: true,
    });

    const put = seen.find((r) => r.method === "PUT")!;
    // The same value as the manifest's gzipSha256 (hex) for this file, in base64.
    expect(put.headers["x-amz-checksum-sha256"]).toBe(sha256Base64(gzip));
  });

  it("a streamed multipart put without a lock asks for SHA-256 and checksums every part with it", async () => {
    const { client, seen } = stubbedS3(
      multipartResponder({ status: 200, body: "<CompleteMultipartUploadResult/>" }),
    );
    const store = createS3Store({ client, bucket: "b" });

    await store.put("raw/chat_type=C2C/dt=2027-05-01/hour=10/a.gz", zeros(12 * MiB).stream);

    const create = seen.find((r) => r.method === "POST" && "uploads" in r.query)!;
    const parts = seen.filter((r) => r.method === "PUT" && "partNumber" in r.query);
    expect(create.headers["x-amz-checksum-algorithm"]).toBe("SHA256");
    expect(parts.length).toBeGreaterThan(1);
    const first = Buffer.alloc(5 * MiB);
    expect(parts[0]!.headers["x-amz-checksum-sha256"]).toBe(sha256Base64(first));
    for (const part of parts) expect(part.headers["x-amz-checksum-crc32"]).toBeUndefined();
  });
});
