import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { hourEnd, hourStart } from "@imvault/im-core";
import { describe, expect, it } from "vitest";
import { computeFigures, gzipFileStream, type HourSpec, plainFileStream } from "./generator.ts";
import { mediaKeys, recogniseMediaUrl } from "./media.ts";

const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");

async function collect(s: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

function spec(over: Partial<HourSpec> = {}): HourSpec {
  return {
    seed: "unit",
    sdkAppId: 1400000000,
    chatType: "C2C",
    msgTime: "2024010203",
    volume: { messages: 500 },
    maxFileBytes: Number.MAX_SAFE_INTEGER,
    ...over,
  };
}

async function files(s: HourSpec) {
  const figures = await computeFigures(s, 6);
  const out = [];
  for (const f of figures) {
    const gz = await collect(gzipFileStream(s, f, 6));
    out.push({ f, gz, plain: gunzipSync(gz) });
  }
  return out;
}

describe("history file generator", () => {
  it("lays a file out as header line, one message a line with commas but the last, and a ]} line", async () => {
    const [file] = await files(spec({ volume: { messages: 3 } }));
    const lines = file!.plain.toString("utf8").split("\n");

    expect(lines[0]).toBe('{"SdkAppId":1400000000,"ChatType":"C2C","MsgTime":"2024010203","MsgList":[');
    expect(lines[1]!.endsWith(",")).toBe(true);
    expect(lines[2]!.endsWith(",")).toBe(true);
    expect(lines[3]!.endsWith("}")).toBe(true);
    expect(lines.slice(4)).toEqual(["]}", ""]);
    expect(JSON.parse(file!.plain.toString("utf8")).MsgList).toHaveLength(3);
  });

  it("advertises sizes and MD5s equal to the bytes it later serves", async () => {
    const [file] = await files(spec());

    expect(file!.gz.length).toBe(file!.f.gzipSize);
    expect(md5(file!.gz)).toBe(file!.f.gzipMd5);
    expect(file!.plain.length).toBe(file!.f.fileSize);
    expect(md5(file!.plain)).toBe(file!.f.fileMd5);
  });

  it("generates the same bytes for the same seed and different bytes for another seed", async () => {
    const a = await files(spec());
    const b = await files(spec());
    const c = await files(spec({ seed: "other" }));

    expect(md5(a[0]!.gz)).toBe(md5(b[0]!.gz));
    expect(md5(a[0]!.plain)).not.toBe(md5(c[0]!.plain));
  });

  it("gives C2C messages From/To accounts and Group messages a GroupId, timestamps inside the Beijing hour", async () => {
    for (const chatType of ["C2C", "Group"] as const) {
      const [file] = await files(spec({ chatType, volume: { messages: 300 } }));
      const doc = JSON.parse(file!.plain.toString("utf8"));
      const start = hourStart("2024010203") / 1000;
      const end = hourEnd("2024010203") / 1000;

      expect(doc.ChatType).toBe(chatType);
      for (const m of doc.MsgList) {
        expect(typeof m.From_Account).toBe("string");
        if (chatType === "C2C") {
          expect(typeof m.To_Account).toBe("string");
          expect(m.GroupId).toBeUndefined();
        } else {
          expect(m.GroupId).toMatch(/^(@TGS#|group_)/);
          expect(m.To_Account).toBeUndefined();
        }
        expect(m.MsgTimestamp).toBeGreaterThanOrEqual(start);
        expect(m.MsgTimestamp).toBeLessThan(end);
        expect(Number.isInteger(m.MsgSeq)).toBe(true);
      }
      const stamps = doc.MsgList.map((m: { MsgTimestamp: number }) => m.MsgTimestamp);
      expect(stamps).toEqual([...stamps].sort((x, y) => x - y));
    }
  });

  it("mixes every element type, images in three sizes, and media URLs that the simulator recognises as its own", async () => {
    const [file] = await files(spec({ volume: { messages: 2000 } }));
    const doc = JSON.parse(file!.plain.toString("utf8"));
    const types = new Set<string>();
    const urls: string[] = [];
    let extraFields = 0;
    for (const m of doc.MsgList) {
      if (m.CloudCustomData !== undefined) extraFields++;
      for (const e of m.MsgBody) {
        types.add(e.MsgType);
        const c = e.MsgContent;
        if (e.MsgType === "TIMImageElem") {
          expect(c.ImageInfoArray.map((i: { Type: number }) => i.Type)).toEqual([1, 2, 3]);
          urls.push(...c.ImageInfoArray.map((i: { URL: string }) => i.URL));
        }
        if (e.MsgType === "TIMSoundElem" || e.MsgType === "TIMFileElem") urls.push(c.Url);
        if (e.MsgType === "TIMVideoFileElem") urls.push(c.VideoUrl, c.ThumbUrl);
      }
    }
    const keys = mediaKeys("unit", 1400000000);

    expect([...types].sort()).toEqual([
      "TIMCustomElem",
      "TIMFaceElem",
      "TIMFileElem",
      "TIMImageElem",
      "TIMLocationElem",
      "TIMSoundElem",
      "TIMTextElem",
      "TIMVideoFileElem",
    ]);
    expect(extraFields).toBeGreaterThan(0);
    expect(urls.length).toBeGreaterThan(100);
    for (const u of urls) {
      expect(u).toMatch(
        /^https:\/\/cos\.ap-shanghai\.myqcloud\.com\/[0-9a-f]{4}-shanghai-[^/]+\/[0-9a-f]{4}-1400000000\//,
      );
      expect(recogniseMediaUrl(keys, u)).toBeDefined();
    }
    expect(
      doc.MsgList.some((m: { MsgBody: { MsgContent: { Text?: string } }[] }) =>
        /[\u4e00-\u9fff]/.test(m.MsgBody[0]?.MsgContent.Text ?? ""),
      ),
    ).toBe(true);
    expect(file!.plain.toString("utf8")).toMatch(/\p{Extended_Pictographic}/u);
  });

  it("splits an hour into several files once a file's plain size reaches maxFileBytes, each file complete and regenerable alone", async () => {
    const whole = (await files(spec({ volume: { messages: 3000 } })))[0]!;
    const split = await files(spec({ volume: { messages: 3000 }, maxFileBytes: 300_000 }));

    expect(split.length).toBeGreaterThan(2);
    let next = 0;
    const wholeLines = whole.plain.toString("utf8").split("\n").slice(1, -2);
    const splitLines: string[] = [];
    for (const { f, plain, gz } of split) {
      expect(f.firstMessage).toBe(next);
      next += f.messageCount;
      expect(f.fileSize).toBe(plain.length);
      expect(md5(gz)).toBe(f.gzipMd5);
      const doc = JSON.parse(plain.toString("utf8"));
      expect(doc.MsgList).toHaveLength(f.messageCount);
      splitLines.push(...plain.toString("utf8").split("\n").slice(1, -2));
    }
    for (const { f } of split.slice(0, -1)) expect(f.fileSize).toBeGreaterThanOrEqual(300_000);
    expect(next).toBe(3000);
    // The same messages as the unsplit hour, in the same order (only the trailing commas differ).
    expect(splitLines.map((l) => l.replace(/,$/, ""))).toEqual(wholeLines.map((l) => l.replace(/,$/, "")));
  });

  it("fills a byte-sized hour to just past the asked plain size", async () => {
    const figures = await computeFigures(spec({ volume: { bytes: 200_000 } }), 6);

    expect(figures).toHaveLength(1);
    expect(figures[0]!.fileSize).toBeGreaterThanOrEqual(200_000);
    expect(figures[0]!.fileSize).toBeLessThan(200_000 + 4096);
  });

  it("has no files for an hour of zero messages", async () => {
    expect(await computeFigures(spec({ volume: { messages: 0 } }), 6)).toEqual([]);
  });

  it("produces the plain stream in bounded chunks, never the whole file at once", async () => {
    const s = spec({ volume: { messages: 5000 } });
    const [f] = await computeFigures(s, 1);
    let largest = 0;
    let total = 0;
    for await (const c of plainFileStream(s, f!)) {
      largest = Math.max(largest, (c as Buffer).length);
      total += (c as Buffer).length;
    }

    expect(total).toBe(f!.fileSize);
    expect(largest).toBeLessThanOrEqual(128 * 1024);
    expect(total).toBeGreaterThan(4 * largest);
  });
});
