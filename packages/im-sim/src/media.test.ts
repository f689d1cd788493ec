import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import {
  mediaBytes,
  mediaKeys,
  mintMediaUrl,
  recogniseMediaUrl,
  recogniseObjectPath,
  SIZED_PIECE_BYTES,
  sizedMediaStream,
} from "./media.ts";
import { Rng } from "./prng.ts";

describe("simulated COS media URLs", () => {
  const keys = mediaKeys("seed", 1400000000);

  it("recognises a URL it minted, with or without a query string", () => {
    const url = mintMediaUrl(keys, new Rng("x"), "png", "alice");

    expect(url).toMatch(
      /^https:\/\/cos\.ap-shanghai\.myqcloud\.com\/[0-9a-f]{4}-shanghai-007-privatev2-01-1256635546\/[0-9a-f]{4}-1400000000\/[0-9a-f]{4}-alice\/[0-9a-f]{32}\.png$/,
    );
    expect(recogniseMediaUrl(keys, url)?.ext).toBe("png");
    expect(recogniseMediaUrl(keys, `${url}?imageMogr2/thumbnail/198x`)?.ext).toBe("png");
  });

  it("does not recognise a tampered name, another extension, another app or another seed", () => {
    const url = mintMediaUrl(keys, new Rng("y"), "jpg", "bob");
    const flipped = url.replace(/([0-9a-f])\.jpg$/, (_m, d: string) => `${d === "0" ? "1" : "0"}.jpg`);

    expect(recogniseMediaUrl(keys, flipped)).toBeUndefined();
    expect(recogniseMediaUrl(keys, url.replace(/\.jpg$/, ".png"))).toBeUndefined();
    expect(recogniseMediaUrl(mediaKeys("seed", 1400000001), url)).toBeUndefined();
    expect(recogniseMediaUrl(mediaKeys("other", 1400000000), url)).toBeUndefined();
    expect(recogniseMediaUrl(keys, "not a url")).toBeUndefined();
  });

  it("serves deterministic bytes that start with the file type's magic number", () => {
    const url = mintMediaUrl(keys, new Rng("z"), "png", "carol");
    const media = recogniseObjectPath(keys, new URL(url).pathname.slice(1))!;
    const a = mediaBytes(media);
    const b = mediaBytes(media);

    expect(a.contentType).toBe("image/png");
    expect(a.body.subarray(0, 4)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    expect(a.body.equals(b.body)).toBe(true);
    expect(a.body.length).toBeGreaterThanOrEqual(512);
  });

  it("generates a sized object's bytes piece by piece: exact size, magic number first, the same every time", async () => {
    const url = mintMediaUrl(keys, new Rng("big"), "mp4", "dave");
    const media = recogniseObjectPath(keys, new URL(url).pathname.slice(1))!;
    const size = 3 * SIZED_PIECE_BYTES + 1234;

    const a = await drain(sizedMediaStream(media, size).stream);
    const b = await drain(sizedMediaStream(media, size).stream);

    expect(a.length).toBe(size);
    expect(a.subarray(4, 8).toString("latin1")).toBe("ftyp");
    expect(a.equals(b)).toBe(true);
    // Not a repeating pattern: every piece differs.
    const pieces = new Set(
      [0, 1, 2].map((i) => hash(a.subarray(i * SIZED_PIECE_BYTES, (i + 1) * SIZED_PIECE_BYTES))),
    );
    expect(pieces.size).toBe(3);
  });

  it("starts a sized object at the piece holding a Range's first byte, with the same bytes as from the start", async () => {
    const url = mintMediaUrl(keys, new Rng("range"), "zip", "erin");
    const media = recogniseObjectPath(keys, new URL(url).pathname.slice(1))!;
    const size = 2 * SIZED_PIECE_BYTES + 10;
    const whole = await drain(sizedMediaStream(media, size).stream);
    const start = SIZED_PIECE_BYTES + 77;

    const { stream, at } = sizedMediaStream(media, size, start);
    const tail = await drain(stream);

    expect(at).toBe(SIZED_PIECE_BYTES);
    expect(tail.equals(whole.subarray(at))).toBe(true);
  });

  it("holds one piece at a time however big the object (512 MiB read with flat memory)", {
    timeout: 60_000,
  }, async () => {
    const url = mintMediaUrl(keys, new Rng("huge"), "mp4", "frank");
    const media = recogniseObjectPath(keys, new URL(url).pathname.slice(1))!;
    const size = 512 * 1024 * 1024;
    const before = process.memoryUsage().rss;
    let peak = before;
    let n = 0;

    for await (const chunk of sizedMediaStream(media, size).stream) {
      n += (chunk as Buffer).length;
      if (n % (64 * SIZED_PIECE_BYTES) === 0) peak = Math.max(peak, process.memoryUsage().rss);
    }

    expect(n).toBe(size);
    expect(peak - before).toBeLessThan(128 * 1024 * 1024);
  });
});

async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function hash(b: Buffer): string {
  return createHash("sha256").update(b).digest("hex");
}
