import { describe, expect, it } from "vitest";
import { messageLines } from "../../testing/message-lines.ts";
import { HistoryFormatError } from "../errors.ts";
import { fileRowFields, messageRow } from "../table/rows.ts";
import { MessageScanner, type ScannedMessage, type Spans } from "./message-scan.ts";
import { HistoryParser } from "./parser.ts";

const file = fileRowFields({ chatType: "C2C", msgTime: "2015120121", sourceKey: "raw/k.gz" });

const strings = (s: Spans) =>
  Array.from({ length: s.length }, (_, i) => s.bufs[i]!.toString("utf8", s.starts[i], s.ends[i]));

/** The scanner's fields in messageRow's terms. */
function fieldsOf(m: ScannedMessage) {
  const texts = strings(m.texts);
  return {
    from_account: m.from.present ? m.from.toString() : null,
    to_account: m.to.present ? m.to.toString() : null,
    group_id: m.group.present ? m.group.toString() : null,
    msg_timestamp: m.msgTimestamp,
    msg_seq: m.msgSeq,
    msg_random: m.msgRandom,
    msg_types: strings(m.types),
    text: texts.length === 0 ? null : texts.join("\n"),
    media_urls: strings(m.media),
  };
}

/** A string as the table stores it: UTF-8, where a lone surrogate (from a `\\ud800` escape) is U+FFFD. */
const stored = (s: string | null) => (s === null ? null : Buffer.from(s, "utf8").toString("utf8"));

function expected(line: string) {
  const row = messageRow(file, JSON.parse(line), line, 2);
  return {
    from_account: stored(row.from_account),
    to_account: stored(row.to_account),
    group_id: stored(row.group_id),
    msg_timestamp: row.msg_timestamp,
    msg_seq: row.msg_seq,
    msg_random: row.msg_random,
    msg_types: row.msg_types.map(stored),
    text: stored(row.text),
    media_urls: row.media_urls.map(stored),
  };
}

/** What HistoryParser (JSON.parse) says of a file whose only message is `line`. */
function parserVerdict(line: string): string {
  try {
    const p = new HistoryParser();
    p.push(`{"SdkAppId":1,"ChatType":"C2C","MsgTime":"2015120121","MsgList":[\n${line}\n]}\n`);
    p.end();
    return "ok";
  } catch (err) {
    return `${(err as HistoryFormatError).line}: ${(err as Error).message}`;
  }
}

function scanVerdict(line: string): string {
  // The line inside a larger buffer, so that a scan past its end would be caught.
  const buf = Buffer.from(`xx${line},{"a":"\\u0031"}]`, "utf8");
  const start = 2;
  try {
    new MessageScanner().scan(buf, start, start + Buffer.byteLength(line), 2);
    return "ok";
  } catch (err) {
    expect(err).toBeInstanceOf(HistoryFormatError);
    return `${(err as HistoryFormatError).line}: ${(err as Error).message}`;
  }
}

describe("MessageScanner", () => {
  it("finds every field messageRow finds, on edge cases and generated messages", () => {
    const scanner = new MessageScanner();
    const lines = messageLines(400, 7);
    expect(lines.length).toBeGreaterThan(400);
    for (const line of lines) {
      const buf = Buffer.from(line, "utf8");
      const found = fieldsOf(scanner.scan(buf, 0, buf.length, 2));
      expect({ line, found }).toEqual({ line, found: expected(line) });
    }
  });

  it.each([
    ['{"From_Account":"a"} x'],
    ['{"From_Account":"a"'],
    ['{"From_Account":"a\\x"}'],
    ['{"From_Account":"a\\u12g4"}'],
    ['{"From_Account":"a\tb"}'],
    ['{"MsgSeq":01}'],
    ['{"MsgSeq":1.}'],
    ['{"MsgSeq":-}'],
    ['{"MsgSeq":.5}'],
    ['{"MsgSeq":+1}'],
    ['{"MsgSeq":1e}'],
    ['{"MsgSeq":tru}'],
    ['{"MsgSeq":nul}'],
    ['{"MsgBody":[1,]}'],
    ['{"MsgBody":[{"MsgType":"TIMTextElem",}]}'],
    ["{,}"],
    ['{"a":1,}'],
    ['{"a" 1}'],
    ["{'a':1}"],
    ['{"a":[1 2]}'],
    ['{"a":{"b":[{"c":}]}}'],
    ['{"a":{"b":[{"c":1}]]}'],
    ["[1,2]"],
    ['"just a string"'],
    ["42"],
    ["null"],
    ['{"MsgBody":{"MsgType":"TIMTextElem"}}'],
    ['{"MsgBody":null}'],
    ['{"MsgBody":"[]"}'],
    ['{"MsgBody":{},"MsgBody":[]}'],
    ['{"MsgBody":[],"MsgBody":{}}'],
    ['{"MsgBody":{} x}'],
    ['{"a":"\\ud800"}'],
    ['{"a":true,"b":false,"c":null,"d":-0,"e":1E+2,"f":[[[]]],"g":{}}'],
  ])("accepts and refuses exactly what JSON.parse does, with the parser's error: %s", (line) => {
    expect(scanVerdict(line)).toBe(parserVerdict(line));
  });
});
