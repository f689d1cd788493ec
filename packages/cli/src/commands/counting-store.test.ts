import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { createLocalStore } from "@imvault/im-core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { countingStore } from "./counting-store.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "imvault-counting-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("countingStore", () => {
  it("reports the bytes of raw/ files as they stream into the store, which stores them unchanged", async () => {
    const counted: number[] = [];
    const store = countingStore(createLocalStore({ root: dir }), (n) => counted.push(n));
    const chunks = [Buffer.alloc(1000, 1), Buffer.alloc(2000, 2), Buffer.alloc(3000, 3)];

    await store.put("raw/chat_type=C2C/dt=2024-05-01/hour=01/a.gz", Readable.from(chunks));
    await store.put("manifests/chat_type=C2C/dt=2024-05-01/hour=01.json", "{}");

    expect(counted.reduce((a, b) => a + b, 0)).toBe(6000);
    const stored = await buffer(await store.get("raw/chat_type=C2C/dt=2024-05-01/hour=01/a.gz"));
    expect(stored.equals(Buffer.concat(chunks))).toBe(true);
  });

  it("counts media/ objects too, but not their index entries or media manifests", async () => {
    const counted: number[] = [];
    const store = countingStore(createLocalStore({ root: dir }), (n) => counted.push(n));

    await store.put("media/cos.example.myqcloud.com/b/a.mp4", Readable.from([Buffer.alloc(4096, 7)]));
    await store.put("media-index/cos.example.myqcloud.com/b/a.mp4.json", Readable.from([Buffer.from("{}")]));
    await store.put(
      "media-manifests/chat_type=C2C/dt=2024-05-01/hour=01.json",
      Readable.from([Buffer.from("{}")]),
    );

    expect(counted.reduce((a, b) => a + b, 0)).toBe(4096);
  });

  it("keeps the store's veto: a body that fails part-way makes put reject and leaves nothing", async () => {
    const store = countingStore(createLocalStore({ root: dir }), () => {});
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(500));
        this.destroy(new Error("MD5 mismatch"));
      },
    });

    await expect(store.put("raw/chat_type=C2C/dt=2024-05-01/hour=01/a.gz", failing)).rejects.toThrow(
      "MD5 mismatch",
    );
    expect(await store.head("raw/chat_type=C2C/dt=2024-05-01/hour=01/a.gz")).toBeUndefined();
  });
});
