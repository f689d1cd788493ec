/**
 * Message lines of every odd shape a history file may hold, for tests that hold a reader of lines
 * to JSON.parse: hand-written edge cases, then generated messages (seeded) with fields in any order,
 * duplicate keys, escapes in keys and values, blanks between tokens, numbers in every JSON form,
 * fields of the wrong type, unknown fields and elements, several texts and media in one body.
 */

/** Edge cases, one message a line (valid JSON objects with an array or no MsgBody). */
export const EDGE_MESSAGES: readonly string[] = [
  "{}",
  ' { "MsgBody" : [ ] } ',
  '{"From_Account":"u1","To_Account":"u0","MsgTimestamp":1448974806,"MsgSeq":1,"MsgRandom":2,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"今天天气真好☀️"}}]}',
  '{"From_Account":"u\\u0031","To_Account":"\\u00e9t\\u00e9","MsgBody":[{"MsgType":"TIM\\u0054extElem","MsgContent":{"Text":"a\\nb\\t\\"c\\"\\\\ \\/ \\ud83d\\ude00"}}]}',
  '{"From\\u005fAccount":"escaped key","To_Account":"z"}',
  '{"From_Account":"é","To_Account":"e"}',
  '{"From_Account":"\uffff","To_Account":"\ud83d\ude00"}',
  '{"From_Account":"b","To_Account":"a|b"}',
  '{"From_Account":"same","To_Account":"same"}',
  '{"From_Account":"first","From_Account":"last","MsgSeq":1,"MsgSeq":"2"}',
  '{"MsgTimestamp":"1448974806","MsgSeq":1.0,"MsgRandom":1e3}',
  '{"MsgTimestamp":-0,"MsgSeq":9007199254740991,"MsgRandom":9007199254740992}',
  '{"MsgTimestamp":1.5,"MsgSeq":-12,"MsgRandom":123456789012345678901234567890}',
  '{"MsgTimestamp":1E2,"MsgSeq":2e-0,"MsgRandom":0.0000001e7}',
  '{"MsgTimestamp":null,"MsgSeq":true,"MsgRandom":[1],"From_Account":{"x":1},"To_Account":5}',
  '{"MsgBody":[null,1,"x",[],{},{"MsgType":5},{"MsgContent":{"Text":"no type"}}]}',
  '{"MsgBody":[{"MsgContent":{"Text":"type after content"},"MsgType":"TIMTextElem"}]}',
  '{"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"one"}},{"MsgType":"TIMTextElem","MsgContent":{"Text":"two"}}]}',
  '{"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":["Text"]},{"MsgType":"TIMTextElem","MsgContent":null}]}',
  '{"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":5}},{"MsgType":"TIMTextElem","MsgContent":{"Text":""}}]}',
  '{"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"a","Text":"b"}}]}',
  '{"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"a"},"MsgContent":{"Other":1}}]}',
  '{"MsgBody":[{"MsgType":"TIMTextElem","MsgType":"TIMFaceElem","MsgContent":{"Text":"a"}}]}',
  '{"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"dropped"}}],"MsgBody":[{"MsgType":"TIMFaceElem"}]}',
  '{"MsgBody":[{"MsgType":"TIMImageElem","MsgContent":{"ImageInfoArray":[{"URL":"https://c/1"},{"URL":" "},{"URL":""},{"URL":"\\u3000"},{"URL":"\\u00a0x"},{"Type":1},null,{"URL":7},{"URL":"a","URL":"https://c/2"}]}}]}',
  '{"MsgBody":[{"MsgType":"TIMImageElem","MsgContent":{"ImageInfoArray":[{"URL":"https://c/x"}],"ImageInfoArray":{"URL":"gone"}}}]}',
  '{"MsgBody":[{"MsgType":"TIMImageElem","MsgContent":{"ImageInfoArray":[{"URL":"https:\\/\\/c\\/esc"}],"Url":"not an image field"}}]}',
  '{"MsgBody":[{"MsgType":"TIMSoundElem","MsgContent":{"Url":"https://c/s","UUID":"u"}},{"MsgType":"TIMFileElem","MsgContent":{"Url":"\\t\\n"}}]}',
  '{"MsgBody":[{"MsgType":"TIMVideoFileElem","MsgContent":{"ThumbUrl":"https://c/t","VideoUrl":"https://c/v"}},{"MsgType":"TIMVideoFileElem","MsgContent":{"VideoUrl":null,"ThumbUrl":"https://c/t2"}}]}',
  '{"MsgBody":[{"MsgType":"TIMCustomElem","MsgContent":{"Data":"{\\"Url\\":\\"https://not/media\\"}","Url":"https://not/media"}}]}',
  '{"MsgBody":[{"MsgType":"TIMFileElem","MsgContent":{"Url":"https://c/f","Nested":{"Url":"x","a":[{"Url":"y"}]}}}]}',
  '{"Unknown":{"deep":[[[{"a":[1,2,{"b":"\\"}"}]}]]]},"MsgBody":[{"MsgType":"TIMNewElem","MsgContent":{"Y":[true,false,null]}}]}',
  '{"From_Account":"\\u2028\\u2029","To_Account":"\\u0000"}',
  '{"GroupId":"@TGS#1","From_Account":"u","MsgRandom":3000000000}',
  '{"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"\\ud800 lone"}}]}',
  // Accounts and a conversation past the length below which values are copied byte by byte.
  '{"From_Account":"an_account_name_of_more_than_32_bytes_b","To_Account":"an_account_name_of_more_than_32_bytes_a"}',
  // Nesting deeper than the scanner's first stack of closing brackets (64).
  `{"Unknown":${'[{"a":'.repeat(100)}1${"}]".repeat(100)},"From_Account":"after the deep value"}`,
];

const FIELDS = [
  "From_Account",
  "To_Account",
  "GroupId",
  "MsgTimestamp",
  "MsgSeq",
  "MsgRandom",
  "CloudCustomData",
];
const TYPES = [
  "TIMTextElem",
  "TIMImageElem",
  "TIMSoundElem",
  "TIMFileElem",
  "TIMVideoFileElem",
  "TIMFaceElem",
  "TIMCustomElem",
];
const CONTENT_KEYS = ["Text", "Url", "VideoUrl", "ThumbUrl", "ImageInfoArray", "URL", "Data", "Index"];
const CHARS = [
  "a",
  "Z",
  "0",
  "_",
  "@",
  "#",
  " ",
  "|",
  "/",
  '"',
  "\\",
  "\n",
  "é",
  "天",
  "気",
  "안",
  "😀",
  "\u3000",
  "\u00a0",
];

/** `count` generated lines after the edge cases, the same for the same seed. */
export function messageLines(count: number, seed: number): string[] {
  let state = seed >>> 0 || 1;
  const rnd = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const ws = () => (rnd() < 0.1 ? pick([" ", "  ", "\t", "\r", " \t "]) : "");
  const text = () => Array.from({ length: Math.floor(rnd() * 6) }, () => pick(CHARS)).join("");
  const str = (s: string): string => {
    if (rnd() < 0.8) return JSON.stringify(s);
    // Escape some characters that need no escape, as a writer may.
    let out = '"';
    for (const ch of s) {
      if (ch === '"' || ch === "\\" || ch === "\n") out += JSON.stringify(ch).slice(1, -1);
      else if (rnd() < 0.3)
        out += ch
          .split("")
          .map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
          .join("");
      else if (ch === "/" && rnd() < 0.5) out += "\\/";
      else out += ch;
    }
    return `${out}"`;
  };
  const num = () =>
    pick([
      String(Math.floor(rnd() * 2 ** 31)),
      String(-Math.floor(rnd() * 1000)),
      "0",
      "-0",
      "1.0",
      "2.5",
      "1e3",
      "1E-2",
      "1448974806",
      // A ts holds years 1 to 9999: the last second in range, the first past it, and far past it.
      "253402300799",
      "253402300800",
      "9007199254740993",
      "123456789012345",
      "1234567890123456",
    ]);
  const scalar = () =>
    pick([
      () => num(),
      () => str(text()),
      () => "null",
      () => "true",
      () => "false",
      () => "[]",
      () => "{}",
    ])();
  const object = (members: string[]) => `{${ws()}${members.join(`${ws()},${ws()}`)}${ws()}}`;
  const member = (key: string, value: string) => `${str(key)}${ws()}:${ws()}${value}`;
  const content = () => {
    const members: string[] = [];
    for (let i = Math.floor(rnd() * 4); i > 0; i--) {
      const key = pick(CONTENT_KEYS);
      if (key === "ImageInfoArray" && rnd() < 0.8) {
        const images = Array.from({ length: Math.floor(rnd() * 4) }, () =>
          rnd() < 0.9
            ? object([
                member("URL", rnd() < 0.9 ? str(`https://c/${text()}`) : scalar()),
                member("Type", num()),
              ])
            : scalar(),
        );
        members.push(member(key, `[${images.join(",")}]`));
      } else {
        members.push(member(key, rnd() < 0.8 ? str(rnd() < 0.5 ? `https://c/${text()}` : text()) : scalar()));
      }
    }
    return object(members);
  };
  const element = () => {
    if (rnd() < 0.05) return scalar();
    const members: string[] = [];
    if (rnd() < 0.9) members.push(member("MsgType", rnd() < 0.95 ? str(pick(TYPES)) : scalar()));
    if (rnd() < 0.9) members.push(member("MsgContent", rnd() < 0.9 ? content() : scalar()));
    if (rnd() < 0.1)
      members.push(
        member(pick(["MsgType", "MsgContent", "Extra"]), rnd() < 0.5 ? content() : str(pick(TYPES))),
      );
    if (rnd() < 0.5) members.reverse();
    return object(members);
  };
  const lines = [...EDGE_MESSAGES];
  for (let n = 0; n < count; n++) {
    const members: string[] = [];
    for (const field of FIELDS) {
      if (rnd() < 0.15) continue;
      const value =
        field.endsWith("Account") || field === "GroupId"
          ? rnd() < 0.9
            ? str(`u_${text()}`)
            : scalar()
          : rnd() < 0.9
            ? num()
            : scalar();
      members.push(member(field, value));
    }
    if (rnd() < 0.9)
      members.push(
        member("MsgBody", `[${Array.from({ length: Math.floor(rnd() * 4) }, element).join(`,${ws()}`)}]`),
      );
    if (rnd() < 0.1) members.push(member(pick(FIELDS), scalar()));
    for (let i = members.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [members[i], members[j]] = [members[j]!, members[i]!];
    }
    lines.push(object(members));
  }
  return lines;
}
