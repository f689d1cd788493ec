import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { describeArchiveStoreConformance } from "../../testing/store-conformance.ts";
import { ImvaultError, NotFoundError, ValidationError } from "../errors.ts";
import { writeInBatches } from "./local-batched-write.ts";
import { createLocalStore, type LocalArchiveStore } from "./local-store.ts";

/** A store in a fresh temp dir, with urlFor pointing at a loopback server that serves its objects. */
async function makeServedStore() {
  const root = await mkdtemp(join(tmpdir(), "imvault-local-store-"));
  let store: LocalArchiveStore | undefined;
  const server = createServer((request, response) => {
    const key = decodeURIComponent(
      new URL(request.url ?? "/", "http://x").pathname.slice("/objects/".length),
    );
    store!.get(key).then(
      (body) => {
        response.writeHead(200, { "content-type": "application/octet-stream" });
        pipeline(body, response).catch(() => response.destroy());
      },
      (error: unknown) => {
        response.writeHead(error instanceof NotFoundError ? 404 : 500).end();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  store = createLocalStore({
    root,
    urlFor: (key) => `http://127.0.0.1:${port}/objects/${encodeURIComponent(key)}`,
  });
  return {
    store,
    async cleanup() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(root, { recursive: true, force: true });
    },
  };
}

describeArchiveStoreConformance("local directory", makeServedStore);

describe("local store specifics", () => {
  let root: string;
  let now: number;
  let store: LocalArchiveStore;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "imvault-local-store-"));
    now = Date.parse("2024-06-01T12:00:00Z");
    store = createLocalStore({ root, now: () => now });
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it.each([
    ["an empty key", ""],
    ["an absolute key", "/etc/passwd"],
    ["a key with ..", "raw/../../escape"],
    ["a key with a . segment", "raw/./x"],
    ["a key with a backslash", "raw\\x"],
    ["a key with an empty segment", "raw//x"],
    ["a key ending in /", "raw/x/"],
    ["a key inside the local state dir", ".imvault/tmp/x"],
  ])("refuses %s with ValidationError on put, get, head and delete", async (_label, key) => {
    await expect(store.put(key, "x")).rejects.toBeInstanceOf(ValidationError);
    await expect(store.get(key)).rejects.toBeInstanceOf(ValidationError);
    await expect(store.head(key)).rejects.toBeInstanceOf(ValidationError);
    await expect(store.delete(key)).rejects.toBeInstanceOf(ValidationError);
  });

  it("refuses a list prefix that climbs out of the root", async () => {
    const listing = async () => {
      for await (const _ of store.list("../")) {
        // unreachable
      }
    };

    await expect(listing()).rejects.toBeInstanceOf(ValidationError);
  });

  it("stores keys as paths under the root", async () => {
    await store.put("raw/chat_type=C2C/dt=2024-01-01/hour=00/f.gz", "gz");

    const names = await readdir(join(root, "raw", "chat_type=C2C", "dt=2024-01-01", "hour=00"));

    expect(names).toEqual(["f.gz"]);
  });

  it("keeps what it stores private to its owner: files 0600, directories 0700", async () => {
    await store.put("raw/chat_type=C2C/dt=2024-01-01/hour=00/f.gz", Readable.from([Buffer.from("gz")]));
    await store.put("manifests/chat_type=C2C/dt=2024-01-01/hour=00.json", "{}", { ifNoneMatch: true });
    const modeOf = async (...parts: string[]) =>
      ((await stat(join(root, ...parts))).mode & 0o777).toString(8);

    const files = [
      await modeOf("raw", "chat_type=C2C", "dt=2024-01-01", "hour=00", "f.gz"),
      await modeOf("manifests", "chat_type=C2C", "dt=2024-01-01", "hour=00.json"),
    ];
    const dirs = [
      await modeOf("raw"),
      await modeOf("raw", "chat_type=C2C", "dt=2024-01-01", "hour=00"),
      await modeOf("manifests", "chat_type=C2C"),
      await modeOf(".imvault"),
      await modeOf(".imvault", "tmp"),
    ];

    expect(files).toEqual(["600", "600"]);
    expect(dirs).toEqual(["700", "700", "700", "700", "700"]);
  });

  it("leaves no temp file behind after a put that succeeded or whose body failed", async () => {
    await store.put("raw/ok.gz", Readable.from([Buffer.from("ok")]));
    const failing = new Readable({
      read() {
        this.destroy(new Error("boom"));
      },
    });
    await expect(store.put("raw/bad.gz", failing)).rejects.toThrow("boom");

    const temps = await readdir(join(root, ".imvault", "tmp"));

    expect(temps).toEqual([]);
  });

  it("a body of odd-sized chunks and strings, across several write batches, is stored byte for byte", async () => {
    // 1-byte to ~300 KiB pieces: batches of 1 MiB fill at arbitrary offsets, and a remainder is left.
    const pieces: (Buffer | string)[] = [];
    let seed = 7;
    for (let i = 0; i < 40; i++) {
      seed = (seed * 48271) % 0x7fffffff;
      const size = i % 5 === 0 ? 1 : seed % (300 * 1024);
      pieces.push(i % 7 === 3 ? "é".repeat(size) : Buffer.alloc(size, i));
    }
    const expected = Buffer.concat(pieces.map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : p)));
    expect(expected.length).toBeGreaterThan(3 * 1024 * 1024);

    const answer = await store.put("raw/odd.gz", Readable.from(pieces));
    const chunks: Buffer[] = [];
    for await (const c of await store.get("raw/odd.gz")) chunks.push(c as Buffer);

    expect(answer).toEqual({ size: expected.length });
    expect(Buffer.concat(chunks).equals(expected)).toBe(true);
  });

  it("list never shows the .imvault state dir", async () => {
    await mkdir(join(root, ".imvault", "tmp"), { recursive: true });
    await writeFile(join(root, ".imvault", "tmp", "left.part"), "x");
    await writeFile(join(root, ".imvault", "state.json"), "{}");
    await store.put("raw/a", "a");

    const keys: string[] = [];
    for await (const info of store.list("")) keys.push(info.key);

    expect(keys).toEqual(["raw/a"]);
  });

  it("cleanupTemp removes temp files older than the limit and keeps newer ones", async () => {
    const tempDir = join(root, ".imvault", "tmp");
    await mkdir(tempDir, { recursive: true });
    await writeFile(join(tempDir, "old.part"), "killed mid-put");
    await writeFile(join(tempDir, "fresh.part"), "being written");
    await utimes(join(tempDir, "old.part"), new Date(now - 2 * 3600_000), new Date(now - 2 * 3600_000));
    await utimes(join(tempDir, "fresh.part"), new Date(now - 60_000), new Date(now - 60_000));

    const removed = await store.cleanupTemp(3600_000);

    expect(removed).toBe(1);
    expect(await readdir(tempDir)).toEqual(["fresh.part"]);
  });

  it("cleanupTemp removes a fresh temp file whose writer process is gone, and keeps a live writer's", async () => {
    // Arrange: a child that has exited gives a PID that is certainly not running any more.
    const { spawnSync } = await import("node:child_process");
    const deadPid = spawnSync(process.execPath, ["-e", "0"]).pid;
    const tempDir = join(root, ".imvault", "tmp");
    await mkdir(tempDir, { recursive: true });
    await writeFile(join(tempDir, `${deadPid}.x.part`), "killed with -9 a second ago");
    await writeFile(join(tempDir, `${process.pid}.y.part`), "our own put in flight");

    const removed = await store.cleanupTemp(3600_000);

    expect(removed).toBe(1);
    expect(await readdir(tempDir)).toEqual([`${process.pid}.y.part`]);
  });

  it("cleanupTemp on a root that never had a put removes nothing", async () => {
    expect(await store.cleanupTemp(0)).toBe(0);
  });

  it("signedUrl without urlFor rejects with an ImvaultError that says so", async () => {
    await store.put("raw/a", "a");

    const outcome = store.signedUrl("raw/a", 60);

    await expect(outcome).rejects.toBeInstanceOf(ImvaultError);
    await expect(outcome).rejects.toThrow(/without urlFor/);
  });

  it("signedUrl passes key and ttl to urlFor", async () => {
    const signing = createLocalStore({ root, urlFor: (key, ttl) => `http://127.0.0.1:1/${key}?ttl=${ttl}` });

    expect(await signing.signedUrl("raw/a", 90)).toBe("http://127.0.0.1:1/raw/a?ttl=90");
  });
});

describe("writeInBatches", () => {
  it("writes the rest when a writev writes only part of its buffers", async () => {
    // A file whose writev takes at most 1000 bytes a call, as a system call may.
    const written: Buffer[] = [];
    const file = {
      async writev(buffers: Buffer[]) {
        let n = 0;
        for (const buffer of buffers) {
          if (n === 1000) break;
          const part = buffer.subarray(0, 1000 - n);
          written.push(part);
          n += part.length;
        }
        return { bytesWritten: n };
      },
      datasync: async () => {},
    };
    const chunks = Array.from({ length: 40 }, (_, i) => Buffer.alloc(64 * 1024 + i, i));

    const size = await writeInBatches(file, Readable.from(chunks));

    const expected = Buffer.concat(chunks);
    expect(size).toBe(expected.length);
    expect(Buffer.concat(written).equals(expected)).toBe(true);
  });

  it("fails instead of looping when writev writes nothing", async () => {
    const file = { writev: async () => ({ bytesWritten: 0 }), datasync: async () => {} };

    await expect(writeInBatches(file, Readable.from([Buffer.alloc(10)]))).rejects.toThrow(/wrote nothing/);
  });

  it("syncs what is written every syncEveryBytes while the rest is still arriving", async () => {
    const events: string[] = [];
    let written = 0;
    const file = {
      async writev(buffers: Buffer[]) {
        const n = buffers.reduce((sum, b) => sum + b.length, 0);
        written += n;
        events.push(`write ${written >> 20}`);
        return { bytesWritten: n };
      },
      async datasync() {
        events.push(`sync at ${written >> 20}`);
      },
    };
    const chunks = Array.from({ length: 10 * 16 }, () => Buffer.alloc(64 * 1024)); // 10 MiB

    await writeInBatches(file, Readable.from(chunks), 4 * 1024 * 1024);

    // A sync after the 4th and the 8th MiB, each once that batch is written, and writes after them.
    expect(events.filter((e) => e.startsWith("sync"))).toEqual(["sync at 4", "sync at 8"]);
    expect(events.indexOf("sync at 4")).toBeLessThan(events.indexOf("write 5"));
    expect(events.at(-1)).toBe("write 10");
  });

  it("fails when a background sync fails, after the writes it overlapped", async () => {
    const file = {
      writev: async (buffers: Buffer[]) => ({ bytesWritten: buffers.reduce((n, b) => n + b.length, 0) }),
      datasync: async () => {
        throw Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" });
      },
    };
    const chunks = Array.from({ length: 3 * 16 }, () => Buffer.alloc(64 * 1024));

    await expect(writeInBatches(file, Readable.from(chunks), 1024 * 1024)).rejects.toThrow(/EIO/);
  });
});
