import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { HistoryFormatError } from "../errors.ts";
import { HistoryParser, readGzipHistory, readHistory } from "./parser.ts";
import type { HistoryEvent, HistoryHeader, HistoryMessage, HistorySummary } from "./types.ts";

// Tencent's two examples from get_history §3.11, byte for byte (note the space after the last message).
const C2C_EXAMPLE = `{"SdkAppId":1104620500,"ChatType":"C2C","MsgTime":"2015120121","MsgList":[
{"From_Account":"peakerdong","To_Account":"qiyueliuhuo2018","MsgTimestamp":1448974806,"MsgSeq":3452069198,"MsgRandom":45838,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"四等分"}}]},
{"From_Account":"group_root","To_Account":"group_test4","MsgTimestamp":1448974808,"MsgSeq":462709847,"MsgRandom":19196437,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi, beauty"}}]} 
]}
`;
const GROUP_EXAMPLE = `{"SdkAppId":1104620500,"ChatType":"Group","MsgTime":"2015120121","MsgList":[
{"From_Account":"Test_1","GroupId":"@TGS#1FDFVPAE2","MsgTimestamp":1448975384,"MsgSeq":1,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"Private activate"}}]},
{"From_Account":"Test_1","GroupId":"@TGS#1FDFVPAE2","MsgTimestamp":1448975384,"MsgSeq":1,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"Private activate"}}]} 
]}
`;
const HEADER = `{"SdkAppId":1400000001,"ChatType":"C2C","MsgTime":"2024050112","MsgList":[`;

function text(t: string): string {
  return JSON.stringify({
    From_Account: "a",
    To_Account: "b",
    MsgTimestamp: 1714536000,
    MsgSeq: 1,
    MsgRandom: 2,
    MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: t } }],
  });
}

function textOf(m: HistoryMessage | undefined): string | undefined {
  return (m?.MsgBody?.[0]?.MsgContent as { Text?: string } | undefined)?.Text;
}

/** A file in Tencent's layout from message JSON lines. */
function file(lines: string[], eol = "\n"): string {
  return [HEADER, ...lines.map((l, i) => (i < lines.length - 1 ? `${l},` : l)), "]}"].join(eol) + eol;
}

async function* chunked(data: string | Buffer, size: number): AsyncGenerator<Buffer> {
  const buf = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

interface Collected {
  header: HistoryHeader | undefined;
  messages: HistoryMessage[];
  lines: number[];
  summary: HistorySummary;
}

async function collect(gen: AsyncGenerator<HistoryEvent, HistorySummary>): Promise<Collected> {
  const out: Omit<Collected, "summary"> = { header: undefined, messages: [], lines: [] };
  for (;;) {
    const r = await gen.next();
    if (r.done) return { ...out, summary: r.value };
    if (r.value.kind === "header") out.header = r.value.header;
    else {
      out.messages.push(r.value.message);
      out.lines.push(r.value.line);
    }
  }
}

async function formatError(data: string | Buffer, chunkSize = 1 << 20): Promise<HistoryFormatError> {
  try {
    await collect(readHistory(chunked(data, chunkSize)));
  } catch (err) {
    expect(err).toBeInstanceOf(HistoryFormatError);
    return err as HistoryFormatError;
  }
  throw new Error("expected a HistoryFormatError");
}

describe("readHistory: well-formed files", () => {
  it("reads Tencent's C2C example: header without MsgList, both messages with their 1-based lines", async () => {
    const got = await collect(readHistory(chunked(C2C_EXAMPLE, 1 << 20)));

    expect(got.header).toEqual({ SdkAppId: 1104620500, ChatType: "C2C", MsgTime: "2015120121" });
    expect(got.lines).toEqual([2, 3]);
    expect(got.messages[0]).toEqual({
      From_Account: "peakerdong",
      To_Account: "qiyueliuhuo2018",
      MsgTimestamp: 1448974806,
      MsgSeq: 3452069198,
      MsgRandom: 45838,
      MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: "四等分" } }],
    });
    expect(got.messages[1]?.To_Account).toBe("group_test4");
    expect(got.summary).toEqual({ header: got.header, messageCount: 2, lines: 4 });
  });

  it("reads Tencent's Group example with GroupId and no MsgRandom", async () => {
    const got = await collect(readHistory(chunked(GROUP_EXAMPLE, 1 << 20)));

    expect(got.header?.ChatType).toBe("Group");
    expect(got.messages.map((m) => m.GroupId)).toEqual(["@TGS#1FDFVPAE2", "@TGS#1FDFVPAE2"]);
    expect(got.summary.messageCount).toBe(2);
  });

  it("accepts an empty hour: header line then ]}", async () => {
    const got = await collect(readHistory(chunked(`${HEADER}\n]}\n`, 1 << 20)));

    expect(got.header?.MsgTime).toBe("2024050112");
    expect(got.messages).toEqual([]);
    expect(got.summary).toMatchObject({ messageCount: 0, lines: 2 });
  });

  it("accepts CRLF line endings and trailing spaces and tabs on every line", async () => {
    const data = `${HEADER} \r\n${text("x")},\t\r\n${text("y")} \r\n]} \r\n`;

    const got = await collect(readHistory(chunked(data, 1 << 20)));

    expect(got.messages.map((m) => m.MsgBody?.[0]?.MsgContent)).toEqual([{ Text: "x" }, { Text: "y" }]);
    expect(got.summary.lines).toBe(4);
  });

  it("accepts a file whose ]} has no final newline, and one with extra blank lines after it", async () => {
    const noNewline = file([text("a")]).slice(0, -1);
    const extraBlank = `${file([text("a")])}\n  \r\n\n`;

    const a = await collect(readHistory(chunked(noNewline, 1 << 20)));
    const b = await collect(readHistory(chunked(extraBlank, 3)));

    expect(a.summary.messageCount).toBe(1);
    expect(b.summary).toMatchObject({ messageCount: 1, lines: 3 });
  });

  it("keeps Chinese and emoji text intact when fed 1 byte at a time (chunks split inside characters)", async () => {
    const texts = ["四等分", "晚上一起吃饭吧🍜", "👨‍👩‍👧‍👦家庭聚会", "生日快乐🎂🎉", '引号"与\\反斜杠\u2028'];
    const data = file(texts.map(text));

    const whole = await collect(readHistory(chunked(data, 1 << 20)));
    const bytewise = await collect(readHistory(chunked(data, 1)));

    expect(whole.messages.map(textOf)).toEqual(texts);
    expect(bytewise).toEqual(whole);
  });

  it("gives the same result for every chunk size, with boundaries inside lines, CRLF pairs and ]}", async () => {
    const data = file([text("一"), text("二😀"), text("三")], "\r\n");
    const expected = await collect(readHistory(chunked(data, 1 << 20)));

    for (const size of [2, 3, 5, 7, 13, 64, 127]) {
      expect(await collect(readHistory(chunked(data, size)))).toEqual(expected);
    }
    expect(expected.lines).toEqual([2, 3, 4]);
  });

  it("keeps every field it does not know, in the header and in messages", async () => {
    const msg = {
      From_Account: "a",
      To_Account: "b",
      MsgTimestamp: 1,
      MsgSeq: 2,
      MsgRandom: 3,
      MsgKey: "123_456_789",
      CloudCustomData: '{"x":1}',
      MsgBody: [{ MsgType: "TIMNewElem", MsgContent: { Anything: [1, { deep: null }] }, Extra: true }],
    };
    const data = `{"SdkAppId":1,"ChatType":"C2C","MsgTime":"2024050112","Region":"sgp","MsgList":[\n${JSON.stringify(msg)}\n]}\n`;

    const got = await collect(readHistory(chunked(data, 1 << 20)));

    expect(got.header).toEqual({ SdkAppId: 1, ChatType: "C2C", MsgTime: "2024050112", Region: "sgp" });
    expect(got.messages).toEqual([msg]);
  });

  it("accepts string chunks and a UTF-8 byte order mark before the header", async () => {
    async function* strings() {
      yield `\uFEFF${HEADER}\n${text("a")}`;
      yield ",\n";
      yield `${text("b")}\n]}`;
    }

    const got = await collect(readHistory(strings()));

    expect(got.header?.SdkAppId).toBe(1400000001);
    expect(got.summary.messageCount).toBe(2);
  });
});

describe("readHistory: malformed files are rejected with the 1-based line", () => {
  it("rejects an empty input as a missing header on line 1", async () => {
    const err = await formatError("");
    expect(err.line).toBe(1);
    expect(err.message).toMatch(/no header/);
  });

  it("rejects a file that ends after a message with its comma (no ]} line)", async () => {
    const err = await formatError(`${HEADER}\n${text("a")},\n${text("b")},\n`);
    expect(err.line).toBe(4);
    expect(err.message).toMatch(/truncated.*\]\}/);
  });

  it("rejects a file that ends after the last message without the ]} line", async () => {
    const err = await formatError(`${HEADER}\n${text("a")}\n`);
    expect(err.line).toBe(3);
    expect(err.message).toMatch(/truncated/);
  });

  it("rejects a header-only file with no ]} line", async () => {
    const err = await formatError(`${HEADER}\n`);
    expect(err.line).toBe(2);
  });

  it("rejects a stream that ends in the middle of a line, fed byte by byte", async () => {
    const whole = file([text("a"), text("b")]);
    const cut = whole.slice(0, whole.indexOf(text("b")) + 20);

    const err = await formatError(cut, 1);

    expect(err.line).toBe(3);
    expect(err.message).toMatch(/middle of a line/);
  });

  it("rejects a missing comma between messages, naming the line that lacks it", async () => {
    const err = await formatError(`${HEADER}\n${text("a")},\n${text("b")}\n${text("c")}\n]}\n`);
    expect(err.line).toBe(3);
    expect(err.message).toMatch(/not followed by a comma/);
  });

  it("rejects a trailing comma on the last message", async () => {
    const err = await formatError(`${HEADER}\n${text("a")},\n${text("b")},\n]}\n`);
    expect(err.line).toBe(3);
    expect(err.message).toMatch(/last message is followed by a comma/);
  });

  it.each([
    ["not JSON", `{"SdkAppId":1,"ChatType":"C2C","MsgTime":"x",,"MsgList":[`, /not valid JSON/],
    ["not ending in MsgList:[", `{"SdkAppId":1,"ChatType":"C2C","MsgTime":"x"}`, /must end with/],
    ["SdkAppId a string", `{"SdkAppId":"1","ChatType":"C2C","MsgTime":"x","MsgList":[`, /SdkAppId/],
    ["ChatType missing", `{"SdkAppId":1,"MsgTime":"x","MsgList":[`, /ChatType/],
    ["MsgTime a number", `{"SdkAppId":1,"ChatType":"C2C","MsgTime":2015120121,"MsgList":[`, /MsgTime/],
    [
      "a message on the header line",
      `{"SdkAppId":1,"ChatType":"C2C","MsgTime":"x","MsgList":[{"a":1},[`,
      /MsgList/,
    ],
    ["an array", `[{"SdkAppId":1,"ChatType":"C2C","MsgTime":"x","MsgList":[`, /MsgList|JSON/],
    ["blank", "", /header/],
  ])("rejects a malformed header: %s", async (_name, header, problem) => {
    const err = await formatError(`${header}\n]}\n`);
    expect(err.line).toBe(1);
    expect(err.message).toMatch(problem);
  });

  it.each([
    ["not JSON", "{From_Account: a},", /not valid JSON/],
    ["cut-off JSON", '{"From_Account":"a",', /not valid JSON/],
    ["two objects", '{"a":1},{"b":2},', /not valid JSON/],
    ["a JSON array", "[1,2],", /JSON object/],
    ["a JSON string", '"hello",', /JSON object/],
    ["null", "null,", /JSON object/],
    ["MsgBody not an array", '{"MsgBody":{"MsgType":"TIMTextElem"}},', /MsgBody/],
    ["a blank line", "   ", /empty line/],
    ["a lone comma", ",", /comma with no message/],
  ])("rejects a bad message line: %s", async (_name, line, problem) => {
    const err = await formatError(`${HEADER}\n${text("ok")},\n${line}\n${text("z")}\n]}\n`);
    expect(err.line).toBe(3);
    expect(err.message).toMatch(problem);
  });

  it("does not quote chat content in the error message", async () => {
    const err = await formatError(`${HEADER}\n{"MsgBody":[{"Text":"机密内容"}]]\n]}\n`);
    expect(err.message).not.toContain("机密");
    expect(err.cause).toBeUndefined();
  });

  it("rejects a message after ]} on a later line, naming that line, whatever the chunking", async () => {
    const data = `${file([text("a")])}\n${text("b")}\n`;
    for (const size of [1, 4, 1 << 20]) {
      const err = await formatError(data, size);
      expect(err.line).toBe(5);
      expect(err.message).toMatch(/after the closing/);
    }
  });

  it("rejects text on the same line right after ]}", async () => {
    const err = await formatError(`${HEADER}\n${text("a")}\n]}garbage\n`);
    expect(err.line).toBe(3);
  });

  it("rejects a second ]} line", async () => {
    const err = await formatError(`${HEADER}\n]}\n]}\n`);
    expect(err.line).toBe(3);
  });
});

describe("readHistory: line length cap", () => {
  it("rejects a line over maxLineBytes before the whole line is buffered", async () => {
    let fed = 0;
    async function* endless() {
      yield Buffer.from(`${HEADER}\n{"Text":"`);
      for (;;) {
        fed += 1024;
        yield Buffer.alloc(1024, 0x61);
      }
    }

    const run = collect(readHistory(endless(), { maxLineBytes: 64 * 1024 }));

    await expect(run).rejects.toMatchObject({ name: "HistoryFormatError", line: 2 });
    expect(fed).toBeLessThanOrEqual(65 * 1024);
  });

  it("rejects a complete line over the cap but accepts one at the cap", async () => {
    const line = text("x".repeat(100));
    const data = file([line]);
    const cap = Buffer.byteLength(line);

    await expect(
      collect(readHistory(chunked(data, 1 << 20), { maxLineBytes: cap - 1 })),
    ).rejects.toMatchObject({
      line: 2,
    });
    expect(
      (await collect(readHistory(chunked(data, 1 << 20), { maxLineBytes: cap }))).summary.messageCount,
    ).toBe(1);
  });
});

describe("HistoryParser (push API)", () => {
  it("returns events as complete lines arrive and the summary on end", () => {
    const p = new HistoryParser();

    const first = p.push(Buffer.from(`${HEADER}\n${text("a")}`));
    const second = p.push(Buffer.from(",\n"));
    const third = p.push(new Uint8Array(Buffer.from(`${text("b")}\n]}\n`)));
    const summary = p.end();

    expect(first.map((e) => e.kind)).toEqual(["header"]);
    expect(second.map((e) => e.kind)).toEqual(["message"]);
    expect(third.map((e) => e.kind)).toEqual(["message"]);
    expect(summary).toMatchObject({ messageCount: 2, lines: 4 });
    expect(p.linesSeen).toBe(4);
  });

  it("throws from end() when the closing line never came", () => {
    const p = new HistoryParser();
    p.push(`${HEADER}\n`);
    expect(() => p.end()).toThrow(HistoryFormatError);
  });

  it("hands each message's bytes to a MessageBytesSink, and whether they are UTF-8, however the chunks split", () => {
    const bad = Buffer.concat([Buffer.from('{"Text":"a'), Buffer.from([0xe4, 0xbd]), Buffer.from('b"}')]);
    const plain = Buffer.concat([
      Buffer.from(`${HEADER}\n${text("天气")},\n`),
      bad,
      Buffer.from(`,\n ${text("🎉")} \n]}\n`),
    ]);
    for (const size of [1, 2, 3, 7, plain.length]) {
      const got: { bytes: string; line: number; utf8: boolean }[] = [];
      const p = new HistoryParser({
        messageBytes: {
          add: (buf, start, end, line, utf8) => {
            got.push({ bytes: buf.toString("latin1", start, end), line, utf8 });
          },
        },
      });
      const events = [];
      for (let i = 0; i < plain.length; i += size) events.push(...p.push(plain.subarray(i, i + size)));

      expect(events.map((e) => e.kind)).toEqual(["header"]);
      expect(p.end()).toMatchObject({ messageCount: 3, lines: 5 });
      expect(got).toEqual([
        { bytes: Buffer.from(text("天气")).toString("latin1"), line: 2, utf8: true },
        { bytes: bad.toString("latin1"), line: 3, utf8: false },
        { bytes: Buffer.from(text("🎉")).toString("latin1"), line: 4, utf8: true },
      ]);
    }
  });
});

describe("readGzipHistory", () => {
  const data = file([text("一"), text("二🎉"), text("三")]);

  it("reads a whole GZip file given as bytes", async () => {
    const got = await collect(readGzipHistory(gzipSync(data)));

    expect(got.summary.messageCount).toBe(3);
    expect(textOf(got.messages[1])).toBe("二🎉");
  });

  it("reads a GZip Readable stream fed in small chunks", async () => {
    const gz = gzipSync(data);
    const stream = Readable.from(chunked(gz, 7));

    const got = await collect(readGzipHistory(stream));

    expect(got).toEqual(await collect(readHistory(chunked(data, 1 << 20))));
  });

  it("turns a truncated GZip stream into a HistoryFormatError", async () => {
    const gz = gzipSync(data);

    const run = collect(readGzipHistory(gz.subarray(0, gz.length - 12)));

    await expect(run).rejects.toBeInstanceOf(HistoryFormatError);
    await expect(run).rejects.toThrow(/GZip/);
  });

  it("turns bytes that are not GZip into a HistoryFormatError on line 1", async () => {
    const run = collect(readGzipHistory(Buffer.from(data)));

    await expect(run).rejects.toMatchObject({ name: "HistoryFormatError", line: 1 });
  });

  it("passes a failure of the source stream through unchanged", async () => {
    const boom = new Error("socket hang up");
    const source = new Readable({
      read() {
        this.destroy(boom);
      },
    });

    await expect(collect(readGzipHistory(source))).rejects.toBe(boom);
  });

  it("reports format errors inside the gunzipped text", async () => {
    const run = collect(readGzipHistory(gzipSync(`${HEADER}\n${text("a")},\n]}\n`)));

    await expect(run).rejects.toMatchObject({ name: "HistoryFormatError", line: 2 });
  });

  it("destroys the source when the caller stops early", async () => {
    const source = Readable.from(chunked(gzipSync(data), 16));

    for await (const ev of readGzipHistory(source)) {
      expect(ev.kind).toBe("header");
      break;
    }
    await new Promise((resolve) => setImmediate(resolve));

    expect(source.destroyed).toBe(true);
  });
});
