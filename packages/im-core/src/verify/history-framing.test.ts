import { describe, expect, it } from "vitest";
import { HistoryFraming } from "./history-framing.ts";
import { chunks, HEADER, historyText, message } from "./test-support.ts";

/** Frames `text` pushed in one piece. */
function frame(text: string): HistoryFraming {
  const framing = new HistoryFraming();
  framing.push(Buffer.from(text));
  framing.finish();
  return framing;
}

describe("HistoryFraming on whole files", () => {
  it("counts every message of a well-formed file and notes no problem", () => {
    const framing = frame(historyText(250));

    expect(framing.messageCount).toBe(250);
    expect(framing.problem).toBeUndefined();
  });

  it("reads CRLF line ends, tabs and blank lines after ]} as the documented layout", () => {
    const text = `${HEADER}\r\n${message(1)},\r\n\t${message(2)},\r\n${message(3)}\t\r\n]}\r\n\r\n  \n`;

    const framing = frame(text);

    expect(framing.problem).toBeUndefined();
    expect(framing.messageCount).toBe(3);
  });

  it("keeps the first problem and the count up to it, looking at nothing after it", () => {
    const text = `${HEADER}\n${message(1)},\n${message(2)}\n${message(3)},\n\n${message(4)}\n]}\n`;
    const framing = new HistoryFraming();

    framing.push(Buffer.from(text));
    framing.push(Buffer.from("not even json\n"));
    framing.finish();

    expect(framing.problem).toMatch(/line 4: the previous message has no trailing comma/);
    expect(framing.messageCount).toBe(2);
  });

  it("refuses to buffer a header line longer than 1 MiB", () => {
    const framing = new HistoryFraming();
    const piece = Buffer.alloc(256 * 1024, "a");

    framing.push(Buffer.from('{"SdkAppId":1,"Text":"'));
    for (let i = 0; i < 5; i++) framing.push(piece);

    expect(framing.problem).toMatch(/line 1: header line longer than 1048576 bytes/);
  });

  it("takes ]} only exactly: a split ] } is not the closing line", () => {
    const framing = frame(`${HEADER}\n${message(1)}\n] }\n`);

    expect(framing.problem).toMatch(/line 3: expected a message or the closing \]\}/);
  });
});

describe("HistoryFraming across plain chunk boundaries", () => {
  const text = Buffer.from(`${HEADER}\n${message(1)},\n${message(2)},\n${message(3)} \r\n]}\n`);

  it("counts the same at every two-piece split and with 1-byte pieces", () => {
    for (let cut = 0; cut <= text.length; cut++) {
      const framing = new HistoryFraming();
      framing.push(text.subarray(0, cut));
      framing.push(text.subarray(cut));
      framing.finish();
      expect(framing.messageCount, `cut at ${cut}`).toBe(3);
    }
    const bytewise = new HistoryFraming();
    for (const piece of chunks(text, 1)) bytewise.push(piece);
    bytewise.finish();
    expect(bytewise.messageCount).toBe(3);
  });

  it("finds a layout fault at every split position too", () => {
    const bad = Buffer.from(`${HEADER}\n${message(1)},\n${message(2)},\n]}\n`);
    for (let cut = 0; cut <= bad.length; cut++) {
      const framing = new HistoryFraming();
      framing.push(bad.subarray(0, cut));
      framing.push(bad.subarray(cut));
      framing.finish();
      expect(framing.problem, `cut at ${cut}`).toMatch(/line 4: the message before \]\} ends with a comma/);
    }
  });

  // Lines shaped like the common `{…},` that are still faults where they stand (the quick path for
  // that line must not count them).
  const misplaced: [string, string, RegExp][] = [
    ["as the header", `${message(1)},\n${message(2)}\n]}\n`, /line 1: header line does not end/],
    [
      "after a message without a comma",
      `${HEADER}\n${message(1)}\n${message(2)},\n${message(3)}\n]}\n`,
      /line 3: the previous message has no trailing comma/,
    ],
    [
      "after the closing ]}",
      `${HEADER}\n${message(1)}\n]}\n${message(2)},\n`,
      /line 4: data after the closing/,
    ],
    [
      "with a byte before its {",
      `${HEADER}\n${message(1)},\nx${message(2)},\n${message(3)}\n]}\n`,
      /line 3: line does not start with \{ or \]/,
    ],
    [
      "after a message that ends in }} without a comma",
      `${HEADER}\n{"MsgSeq":1,"MsgBody":{"Text":"hi"}}\n${message(2)}\n]}\n`,
      /line 3: the previous message has no trailing comma/,
    ],
    [
      "cut short before its }",
      `${HEADER}\n${message(1)},\n${message(2).slice(0, 40)},\n${message(3)}\n]}\n`,
      /line 3: message line does not end with \} or \},/,
    ],
  ];
  for (const [where, text, problem] of misplaced) {
    it(`notes a {…}, line ${where} at every split position`, () => {
      const bytes = Buffer.from(text);
      for (let cut = 0; cut <= bytes.length; cut++) {
        const framing = new HistoryFraming();
        framing.push(bytes.subarray(0, cut));
        framing.push(bytes.subarray(cut));
        framing.finish();
        expect(framing.problem, `cut at ${cut}`).toMatch(problem);
      }
    });
  }
});
