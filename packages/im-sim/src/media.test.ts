import { describe, expect, it } from "vitest";
import { mediaBytes, mediaKeys, mintMediaUrl, recogniseMediaUrl, recogniseObjectPath } from "./media.ts";
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
});
