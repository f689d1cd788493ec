import { describe, expect, it } from "vitest";
import { Base64LineWriter, base64Lines, headerText } from "./mime.ts";

/** RFC 2045's base64 the plain way: the whole text, cut every 76 characters, each line ended by CRLF. */
function reference(bytes: Buffer): string {
  const text = bytes.toString("base64");
  let out = "";
  for (let i = 0; i < text.length; i += 76) out += `${text.slice(i, i + 76)}\r\n`;
  return out;
}

/** What a Base64LineWriter hands its sink, given `bytes` cut at `cuts`. */
async function written(bytes: Buffer, cuts: number[]): Promise<{ text: string; chunks: number }> {
  const out: Buffer[] = [];
  const writer = new Base64LineWriter(async (chunk) => {
    out.push(Buffer.from(chunk));
  });
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    await writer.write(bytes.subarray(from, cut));
    from = cut;
  }
  await writer.end();
  return { text: Buffer.concat(out).toString("latin1"), chunks: out.length };
}

const pattern = (length: number) => Buffer.from(Array.from({ length }, (_, i) => (i * 37 + (i >> 8)) % 256));

describe("MIME pieces of an RSMF file", () => {
  it("encodes base64 in 76-character CRLF lines, for every length around a line's 57 bytes", () => {
    for (const length of [0, 1, 2, 3, 4, 55, 56, 57, 58, 59, 113, 114, 115, 1000]) {
      const bytes = pattern(length);
      expect(base64Lines(bytes), `${length} bytes`).toBe(reference(bytes));
    }
  });

  it("writes the same lines however the bytes are cut, in a few blocks of about 1 MiB", async () => {
    const bytes = pattern(2_500_001);

    const one = await written(bytes, []);
    const small = await written(bytes, [1, 100, 580, 1_048_571, 1_048_572, 1_048_573, 2_000_000]);

    expect(one.text).toBe(reference(bytes));
    expect(small.text).toBe(one.text);
    expect(one.chunks).toBe(3);
    const lines = one.text.split("\r\n").slice(0, -1);
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
