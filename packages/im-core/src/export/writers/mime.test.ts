import { describe, expect, it } from "vitest";
import { base64Lines, base64Stream, headerText } from "./mime.ts";

async function collect(chunks: Buffer[]): Promise<string> {
  let out = "";
  for await (const s of base64Stream(
    (async function* () {
      yield* chunks;
    })(),
  ))
    out += s.toString("latin1");
  return out;
}

describe("MIME pieces of an RSMF file", () => {
  it("streams base64 in 76-character CRLF lines, the same however the bytes are chunked", async () => {
    const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 37) % 256));
    const whole = base64Lines(bytes);

    const chunked = await collect([
      bytes.subarray(0, 1),
      bytes.subarray(1, 100),
      bytes.subarray(100, 580),
      bytes.subarray(580),
    ]);

    expect(chunked).toBe(whole);
    const lines = whole.split("\r\n").slice(0, -1);
    expect(lines.slice(0, -1).every((l) => l.length === 76)).toBe(true);
    expect(Buffer.from(lines.join(""), "base64")).toEqual(bytes);
  });

  it("encodes a non-ASCII header value as an RFC 2047 word and leaves ASCII as it is", () => {
    expect(headerText("Group G1 — 2026-12-05")).toBe(
      `=?UTF-8?B?${Buffer.from("Group G1 — 2026-12-05").toString("base64")}?=`,
    );
    expect(headerText("imvault 0.1.0")).toBe("imvault 0.1.0");
  });
});
