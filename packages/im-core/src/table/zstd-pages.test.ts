import { zstdDecompressSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { ZstdPages } from "./zstd-pages.ts";

/** A page of `size` bytes of text that compresses (lines that repeat with a counter). */
function page(size: number, seed: number): Buffer {
  const lines: string[] = [];
  let length = 0;
  for (let i = 0; length < size; i++) {
    const line = `{"MsgSeq":${seed + i},"Text":"line ${(seed + i) % 97}"}\n`;
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(lines.join("")).subarray(0, size);
}

describe("ZstdPages", () => {
  it("makes each page, small (on this thread) or big (on a lane), one frame of its own bytes", async () => {
    const zstd = new ZstdPages(1);
    // Sizes on both sides of the one-shot limit (64 KiB), and big pages in a row on both lanes.
    const pages = [0, 5, 4096, 65535, 65536, 300_000, 1 << 20, 7, (1 << 20) + 1].map((size, i) =>
      page(size, i * 1000),
    );

    const frames = await Promise.all(pages.map((p) => zstd.compress(p)));
    zstd.close();

    for (let i = 0; i < pages.length; i++) {
      expect(zstdDecompressSync(frames[i]!).equals(pages[i]!), `page ${i}`).toBe(true);
    }
    expect(frames[6]!.length).toBeLessThan(pages[6]!.length / 4);
  });
});
