import { describe, expect, it } from "vitest";
import { errorXml, MiB, multipartResponder, stubbedS3, zeros } from "../../testing/s3-stub.ts";
import { NotFoundError } from "../errors.ts";
import { createS3Store } from "./s3-store.ts";

/** Write-once puts: S3 Object Lock's headers, and the SHA-256 checksum Object Lock requires. */

const UNTIL = new Date("2027-05-01T03:00:00.000Z");
const ok = () => ({ status: 200, headers: { etag: '"e"' } });

describe("S3 store: Object Lock on put", () => {
  it("a put with retainUntil sends the lock mode, the date and a SHA-256 checksum", async () => {
    const { client, seen } = stubbedS3(ok);
    const store = createS3Store({ client, bucket: "b", objectLockMode: "COMPLIANCE" });

    await store.put("manifests/chat_type=C2C/dt=2027-05-01/hour=10.json", "{}", {
      retainUntil: UNTIL,
      ifNoneMatch: true,
    });

    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers).toMatchObject({
      "x-amz-object-lock-mode": "COMPLIANCE",
      "x-amz-object-lock-retain-until-date": "2027-05-01T03:00:00Z",
      "x-amz-checksum-sha256": "RBNvo1WzZ4oRRq0W9+hknpT7T8If536DEMBg9hyq/4o=", // SHA-256 of "{}"
      "if-none-match": "*",
    });
  });

  it("defaults to governance mode, and a put without retainUntil sends no lock header", async () => {
    const { client, seen } = stubbedS3(ok);
    const store = createS3Store({ client, bucket: "b" });

    await store.put("digests/000000000001.json", "{}", { retainUntil: UNTIL });
    await store.put("digests-state/head.json", "{}");

    expect(seen[0]!.headers["x-amz-object-lock-mode"]).toBe("GOVERNANCE");
    expect(Object.keys(seen[1]!.headers).filter((h) => h.startsWith("x-amz-object-lock"))).toEqual([]);
  });

  it("a streamed multipart put locks the upload and sends a SHA-256 checksum with every part", async () => {
    const { client, seen } = stubbedS3(
      multipartResponder({ status: 200, body: "<CompleteMultipartUploadResult/>" }),
    );
    const store = createS3Store({ client, bucket: "b" });

    await store.put("raw/chat_type=C2C/dt=2027-05-01/hour=10/a.gz", zeros(12 * MiB).stream, {
      retainUntil: UNTIL,
    });

    const create = seen.find((r) => r.method === "POST" && "uploads" in r.query)!;
    const parts = seen.filter((r) => r.method === "PUT" && "partNumber" in r.query);
    expect(create.headers).toMatchObject({
      "x-amz-object-lock-mode": "GOVERNANCE",
      "x-amz-object-lock-retain-until-date": "2027-05-01T03:00:00Z",
      "x-amz-checksum-algorithm": "SHA256",
    });
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect(part.headers["x-amz-checksum-sha256"]).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  });
});

describe("S3 store: legal holds", () => {
  it("places and lifts a hold with PutObjectLegalHold (checksummed, as S3 requires)", async () => {
    const { client, seen } = stubbedS3(() => ({ status: 200 }));
    const store = createS3Store({ client, bucket: "b" });

    await store.setLegalHold("manifests/m.json", true);
    await store.setLegalHold("manifests/m.json", false);

    expect(seen.map((r) => [r.method, r.path, "legal-hold" in r.query])).toEqual([
      ["PUT", "/b/manifests/m.json", true],
      ["PUT", "/b/manifests/m.json", true],
    ]);
    expect(
      Object.keys(seen[0]!.headers).some((h) => h === "content-md5" || h.startsWith("x-amz-checksum-")),
    ).toBe(true);
  });

  it("reads a hold's status, and calls a missing object NotFoundError when placing, not held when asking", async () => {
    const { client } = stubbedS3((request) => {
      if (request.path.endsWith("/gone.json")) {
        return { status: 404, body: errorXml("NoSuchKey", "The specified key does not exist.") };
      }
      return { status: 200, body: "<LegalHold><Status>ON</Status></LegalHold>" };
    });
    const store = createS3Store({ client, bucket: "b" });

    expect(await store.legalHold("manifests/m.json")).toBe(true);
    expect(await store.legalHold("manifests/gone.json")).toBe(false);
    await expect(store.setLegalHold("manifests/gone.json", true)).rejects.toBeInstanceOf(NotFoundError);
  });
});
