import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AlreadyExistsError, NotFoundError } from "../src/errors.ts";
import type { ArchiveStore, ObjectInfo } from "../src/store/port.ts";
import { describeCopyToFile } from "./store-conformance-copy.ts";

/**
 * The one behaviour every ArchiveStore adapter must show, as vitest tests. Each adapter's test file
 * calls describeArchiveStoreConformance with a factory that makes a fresh, empty store per test.
 */
export interface StoreUnderTest {
  store: ArchiveStore;
  cleanup(): Promise<void>;
}

export interface StoreCapabilities {
  /**
   * false only for a backend KNOWN to ignore `ifNoneMatch` (fauxqs accepts `If-None-Match: *` and
   * overwrites). The suite then asserts the gap instead, so the day the emulator enforces it this
   * test fails and the flag must be flipped. The adapter's own mapping is unit-tested elsewhere.
   */
  enforcesIfNoneMatch: boolean;
  /** Why enforcesIfNoneMatch is false; shown in the test's name. */
  knownGap?: string;
  /**
   * false for a backend without S3 Object Lock (fauxqs has none: it stores a PutObjectLegalHold body
   * as the object); the legal hold tests are then not defined, and the adapter's calls are unit-tested.
   */
  legalHolds?: boolean;
}

const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;
/** Four parts at the 5 MiB default part size, so a stream put is a real multipart upload. */
const BIG_STREAM_BYTES = 20 * MiB;
/** Past one default part: an S3 multipart upload is under way when the body fails. */
const FAIL_AFTER_BYTES = 9 * MiB;
const SLOW_TEST_MS = 60_000;

/** Random bytes in 64 KiB chunks, generated as they are read; `digest()` is valid once it has ended. */
function generatedStream(totalBytes: number, failWith?: Error): { stream: Readable; digest(): string } {
  const hash = createHash("sha256");
  let produced = 0;
  const stream = new Readable({
    read() {
      if (produced >= totalBytes) {
        if (failWith) this.destroy(failWith);
        else this.push(null);
        return;
      }
      const chunk = randomBytes(Math.min(CHUNK, totalBytes - produced));
      produced += chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, digest: () => hash.digest("hex") };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function sha256Of(stream: Readable): Promise<{ digest: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { digest: hash.digest("hex"), size };
}

async function listAll(store: ArchiveStore, prefix: string): Promise<ObjectInfo[]> {
  const found: ObjectInfo[] = [];
  for await (const info of store.list(prefix)) found.push(info);
  return found;
}

export function describeArchiveStoreConformance(
  name: string,
  makeStore: () => Promise<StoreUnderTest>,
  capabilities: StoreCapabilities = { enforcesIfNoneMatch: true },
): void {
  describe(`ArchiveStore conformance: ${name}`, () => {
    let current: StoreUnderTest;
    let store: ArchiveStore;

    beforeEach(async () => {
      current = await makeStore();
      store = current.store;
    });

    afterEach(async () => {
      await current.cleanup();
    });

    it("put of a Buffer answers its size and get streams back the same bytes", async () => {
      const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));

      const answer = await store.put("raw/chat_type=C2C/dt=2024-01-01/hour=00/a.gz", bytes);
      const got = await readAll(await store.get("raw/chat_type=C2C/dt=2024-01-01/hour=00/a.gz"));

      expect(answer).toEqual({ size: 1000 });
      expect(got.equals(bytes)).toBe(true);
    });

    it("a put locked until a date (retainUntil) stores the object like any other, streamed or not", async () => {
      const until = new Date(Date.now() + 86_400_000);
      const body = generatedStream(6 * MiB);

      await store.put("digests/000000000001.json", '{"seq":1}', { retainUntil: until, ifNoneMatch: true });
      await store.put("raw/chat_type=C2C/dt=2024-01-01/hour=00/locked.gz", body.stream, {
        retainUntil: until,
      });

      expect((await readAll(await store.get("digests/000000000001.json"))).toString()).toBe('{"seq":1}');
      const stored = await sha256Of(await store.get("raw/chat_type=C2C/dt=2024-01-01/hour=00/locked.gz"));
      expect(stored).toEqual({ digest: body.digest(), size: 6 * MiB });
    });

    it("put of a string stores its UTF-8 bytes and answers their count", async () => {
      const text = '{"version":1,"note":"北京时间 ✓"}';

      const answer = await store.put("manifests/chat_type=C2C/dt=2024-01-01/hour=00.json", text, {
        contentType: "application/json",
      });
      const got = await readAll(await store.get("manifests/chat_type=C2C/dt=2024-01-01/hour=00.json"));

      expect(answer).toEqual({ size: Buffer.byteLength(text, "utf8") });
      expect(got.toString("utf8")).toBe(text);
    });

    it(
      "put of a 20 MiB stream in small chunks (several parts) round-trips byte for byte",
      async () => {
        const body = generatedStream(BIG_STREAM_BYTES);

        const answer = await store.put("raw/big.gz", body.stream);
        const got = await sha256Of(await store.get("raw/big.gz"));

        expect(answer).toEqual({ size: BIG_STREAM_BYTES });
        expect(got).toEqual({ digest: body.digest(), size: BIG_STREAM_BYTES });
      },
      SLOW_TEST_MS,
    );

    it("put of an empty body stores an empty object", async () => {
      const answer = await store.put("raw/empty", Readable.from([]));

      expect(answer).toEqual({ size: 0 });
      expect((await readAll(await store.get("raw/empty"))).length).toBe(0);
      expect((await store.head("raw/empty"))?.size).toBe(0);
    });

    it("put over an existing key replaces its bytes", async () => {
      await store.put("raw/k", "first");

      await store.put("raw/k", "second!");

      expect((await readAll(await store.get("raw/k"))).toString()).toBe("second!");
    });

    it("head answers key, size and a lastModified date, and undefined for a missing key", async () => {
      const before = Date.now() - 5 * 60_000;
      await store.put("raw/h/x.gz", Buffer.alloc(123, 7));

      const info = await store.head("raw/h/x.gz");
      const missing = await store.head("raw/h/nothing.gz");

      expect(info?.key).toBe("raw/h/x.gz");
      expect(info?.size).toBe(123);
      expect(info?.lastModified).toBeInstanceOf(Date);
      // Loose bound: only catches an epoch-zero or unparsed date, not timing.
      expect(info?.lastModified.getTime()).toBeGreaterThan(before);
      expect(missing).toBeUndefined();
    });

    it("list answers every key under a prefix, in S3 key order, with sizes", async () => {
      const sizes: Record<string, number> = {
        "raw/dt=2024-01-02/hour=00/b.gz": 2,
        "raw/dt=2024-01-01/hour=10/a.gz": 3,
        "raw/dt=2024-01-01/hour=01/z.gz": 4,
        "raw/dt=2024-01-01/hour=01/a.gz": 5,
        "raw/dt=2024-01-01/hour=01-x": 6, // '-' sorts before '/': S3 lists it before hour=01/…
        "raw/dt=2024-01-01/hour=01.gz": 7, // '.' sorts before '/' too
        "raw2/outside.gz": 8,
        "manifests/other.json": 9,
      };
      for (const [key, size] of Object.entries(sizes)) await store.put(key, Buffer.alloc(size, 1));

      const all = await listAll(store, "raw/");
      const partial = await listAll(store, "raw/dt=2024-01-01/hour=0");
      const none = await listAll(store, "nothing/");

      expect(all.map((info) => [info.key, info.size])).toEqual([
        ["raw/dt=2024-01-01/hour=01-x", 6],
        ["raw/dt=2024-01-01/hour=01.gz", 7],
        ["raw/dt=2024-01-01/hour=01/a.gz", 5],
        ["raw/dt=2024-01-01/hour=01/z.gz", 4],
        ["raw/dt=2024-01-01/hour=10/a.gz", 3],
        ["raw/dt=2024-01-02/hour=00/b.gz", 2],
      ]);
      expect(all.every((info) => info.lastModified instanceof Date)).toBe(true);
      expect(partial.map((info) => info.key)).toEqual([
        "raw/dt=2024-01-01/hour=01-x",
        "raw/dt=2024-01-01/hour=01.gz",
        "raw/dt=2024-01-01/hour=01/a.gz",
        "raw/dt=2024-01-01/hour=01/z.gz",
      ]);
      expect(none).toEqual([]);
    });

    it("list with an empty prefix answers every key", async () => {
      await store.put("b/1", "x");
      await store.put("a/1", "y");

      const all = await listAll(store, "");

      expect(all.map((info) => info.key)).toEqual(["a/1", "b/1"]);
    });

    it("delete removes the object, and deleting it again or a never-stored key is not an error", async () => {
      await store.put("raw/d/1.gz", "bytes");
      await store.put("raw/d/2.gz", "kept");

      await store.delete("raw/d/1.gz");
      await store.delete("raw/d/1.gz");
      await store.delete("raw/d/never.gz");

      expect(await store.head("raw/d/1.gz")).toBeUndefined();
      expect((await listAll(store, "raw/d/")).map((info) => info.key)).toEqual(["raw/d/2.gz"]);
    });

    describeCopyToFile(() => store);

    it("get of a missing key rejects with NotFoundError", async () => {
      await expect(store.get("raw/missing.gz")).rejects.toBeInstanceOf(NotFoundError);
    });

    it(
      "put whose body fails midway (past one part) rejects with the body's error and leaves nothing",
      async () => {
        const boom = new Error("verification failed: md5 mismatch");
        const body = generatedStream(FAIL_AFTER_BYTES, boom);

        const outcome = store.put("raw/f/vetoed.gz", body.stream);

        await expect(outcome).rejects.toBe(boom);
        expect(await store.head("raw/f/vetoed.gz")).toBeUndefined();
        expect(await listAll(store, "raw/f/")).toEqual([]);
        await expect(store.get("raw/f/vetoed.gz")).rejects.toBeInstanceOf(NotFoundError);
      },
      SLOW_TEST_MS,
    );

    it("put whose body fails before its first byte rejects with that error and leaves nothing", async () => {
      const boom = new Error("refused before any byte");
      const body = generatedStream(0, boom);

      await expect(store.put("raw/f/early.gz", body.stream)).rejects.toBe(boom);
      expect(await store.head("raw/f/early.gz")).toBeUndefined();
    });

    it("put whose body fails over an existing key leaves the old object untouched", async () => {
      await store.put("raw/f/kept.gz", "old bytes");
      const boom = new Error("vetoed");

      await expect(store.put("raw/f/kept.gz", generatedStream(100_000, boom).stream)).rejects.toBe(boom);

      expect((await readAll(await store.get("raw/f/kept.gz"))).toString()).toBe("old bytes");
    });

    it("a deferred put is readable whole at once, and syncDeferred then resolves (again with nothing left)", async () => {
      const body = generatedStream(3 * CHUNK + 17);

      await store.put("media/h/b/d/e/x.png", body.stream, { ifNoneMatch: true, durability: "deferred" });

      expect(await sha256Of(await store.get("media/h/b/d/e/x.png"))).toEqual({
        digest: body.digest(),
        size: 3 * CHUNK + 17,
      });
      await store.syncDeferred();
      await store.syncDeferred();
    });

    it("put with ifNoneMatch stores a key that does not exist yet", async () => {
      const answer = await store.put("manifests/new.json", "{}", { ifNoneMatch: true });

      expect(answer).toEqual({ size: 2 });
      expect((await readAll(await store.get("manifests/new.json"))).toString()).toBe("{}");
    });

    if (capabilities.enforcesIfNoneMatch) {
      it("put with ifNoneMatch over an existing key rejects with AlreadyExistsError and keeps the first", async () => {
        await store.put("manifests/m.json", '{"first":true}', { ifNoneMatch: true });

        const second = store.put("manifests/m.json", '{"second":true}', { ifNoneMatch: true });

        await expect(second).rejects.toBeInstanceOf(AlreadyExistsError);
        expect((await readAll(await store.get("manifests/m.json"))).toString()).toBe('{"first":true}');
      });

      it(
        "put of a stream (several parts) with ifNoneMatch over an existing key rejects and keeps the first",
        async () => {
          const first = randomBytes(1000);
          await store.put("raw/c/taken.gz", first, { ifNoneMatch: true });

          const second = store.put("raw/c/taken.gz", generatedStream(BIG_STREAM_BYTES).stream, {
            ifNoneMatch: true,
          });

          await expect(second).rejects.toBeInstanceOf(AlreadyExistsError);
          expect((await readAll(await store.get("raw/c/taken.gz"))).equals(first)).toBe(true);
          expect((await listAll(store, "raw/c/")).map((info) => info.key)).toEqual(["raw/c/taken.gz"]);
        },
        SLOW_TEST_MS,
      );

      it("of puts racing with ifNoneMatch for one key, exactly one stores its bytes; the others are refused", async () => {
        const bodies = Array.from({ length: 4 }, () => randomBytes(200_000));

        const outcomes = await Promise.allSettled(
          bodies.map((body) => store.put("raw/c/raced.gz", Readable.from([body]), { ifNoneMatch: true })),
        );

        const won = outcomes.flatMap((o, i) => (o.status === "fulfilled" ? [i] : []));
        const refused = outcomes.filter(
          (o) => o.status === "rejected" && o.reason instanceof AlreadyExistsError,
        );
        expect(won).toHaveLength(1);
        expect(refused).toHaveLength(bodies.length - 1);
        expect((await readAll(await store.get("raw/c/raced.gz"))).equals(bodies[won[0]!]!)).toBe(true);
      });
    } else {
      it(`KNOWN BACKEND GAP (${capabilities.knownGap ?? "ifNoneMatch not enforced"}): ifNoneMatch over an existing key overwrites; flip enforcesIfNoneMatch when this fails`, async () => {
        await store.put("manifests/m.json", '{"first":true}', { ifNoneMatch: true });

        await store.put("manifests/m.json", '{"second":true}', { ifNoneMatch: true });

        expect((await readAll(await store.get("manifests/m.json"))).toString()).toBe('{"second":true}');
      });
    }

    if (capabilities.legalHolds !== false) {
      it("places and lifts a legal hold, which legalHold reports; the object is unchanged", async () => {
        await store.put("manifests/held.json", '{"held":true}');
        const before = await store.legalHold("manifests/held.json");

        await store.setLegalHold("manifests/held.json", true);
        const placed = await store.legalHold("manifests/held.json");
        await store.setLegalHold("manifests/held.json", false);
        const lifted = await store.legalHold("manifests/held.json");

        expect([before, placed, lifted]).toEqual([false, true, false]);
        expect((await readAll(await store.get("manifests/held.json"))).toString()).toBe('{"held":true}');
      });

      it("refuses a legal hold on a key with no object (NotFoundError), which is not held", async () => {
        await expect(store.setLegalHold("raw/none.gz", true)).rejects.toBeInstanceOf(NotFoundError);
        expect(await store.legalHold("raw/none.gz")).toBe(false);
      });
    }

    it("signedUrl answers a URL that a plain fetch, with no credentials, can GET", async () => {
      const bytes = randomBytes(4096);
      await store.put("raw/s/file.gz", bytes);

      const url = await store.signedUrl("raw/s/file.gz", 300);
      const response = await fetch(url);
      const got = Buffer.from(await response.arrayBuffer());

      expect(response.status).toBe(200);
      expect(got.equals(bytes)).toBe(true);
    });
  });
}
