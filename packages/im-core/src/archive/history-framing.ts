import { IntegrityError } from "../errors.ts";

const NL = 0x0a;
const OPEN_BRACE = 0x7b; // {
const CLOSE_BRACE = 0x7d; // }
const CLOSE_BRACKET = 0x5d; // ]
const COMMA = 0x2c;
const HEADER_END = '"MsgList":[';
/** The header line is tiny in practice; refuse to buffer more than this while looking for its end. */
const MAX_HEADER_BYTES = 1024 * 1024;

/** Space, tab, CR: Tencent's own sample ends the last message line with a space. */
function isBlank(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0d;
}

/** What the next line may be. */
type Expect = "header" | "messageOrEnd" | "message" | "end" | "done";

/**
 * Checks the documented line layout of a plain history file and counts its messages, without
 * parsing them: a header line `{…,"MsgList":[`, one message a line (`{…},`, the last one `{…}`), then
 * `]}`; nothing but whitespace after. Only the header is JSON-parsed (it is one short line).
 * Feed it the plain bytes in any chunking; it throws IntegrityError (figure "framing") at the first
 * line that breaks the layout, so a bad file is refused as soon as the fault is seen.
 */
export class HistoryFraming {
  /** Complete message lines seen so far. */
  messageCount = 0;
  private expect: Expect = "header";
  private line = 1;
  private headerParts: Buffer[] = [];
  private headerBytes = 0;
  // The current line, as far as seen: its first non-blank byte and its last two non-blank bytes
  // (-1 = none yet), and how many non-blank-bounded bytes it spans (to recognise exactly `]}`).
  private first = -1;
  private last1 = -1;
  private last2 = -1;
  private firstAt = 0;
  private lastAt = 0;
  private offset = 0;

  /** Feeds the next plain bytes. */
  push(buf: Buffer): void {
    const base = this.offset;
    this.offset += buf.length;
    let pos = 0;
    for (;;) {
      const nl = buf.indexOf(NL, pos);
      const end = nl === -1 ? buf.length : nl;
      if (end > pos) this.segment(buf, pos, end, base);
      if (nl === -1) return;
      this.endLine();
      pos = nl + 1;
    }
  }

  /** Call once the plain bytes are over; throws if the layout is incomplete. */
  finish(): void {
    if (this.first !== -1) this.endLine();
    if (this.expect !== "done") {
      const want = this.expect === "header" ? "a header line" : "the closing ]} line";
      throw this.fail(`file ended before ${want}`);
    }
  }

  private segment(buf: Buffer, start: number, end: number, base: number): void {
    if (this.expect === "header") this.keepHeader(buf, start, end);
    let i = start;
    if (this.first === -1) {
      while (i < end && isBlank(buf[i]!)) i++;
      if (i === end) return;
      this.first = buf[i]!;
      this.firstAt = base + i;
      if (this.expect === "done") throw this.fail("data after the closing ]}");
      if (this.first !== OPEN_BRACE && this.first !== CLOSE_BRACKET) {
        throw this.fail("line does not start with { or ]");
      }
    }
    let j = end - 1;
    while (j >= i && isBlank(buf[j]!)) j--;
    if (j < i) return;
    this.lastAt = base + j;
    const b1 = buf[j]!;
    j--;
    while (j >= i && isBlank(buf[j]!)) j--;
    this.last2 = j >= i ? buf[j]! : this.last1;
    this.last1 = b1;
  }

  private keepHeader(buf: Buffer, start: number, end: number): void {
    this.headerBytes += end - start;
    if (this.headerBytes > MAX_HEADER_BYTES)
      throw this.fail(`header line longer than ${MAX_HEADER_BYTES} bytes`);
    this.headerParts.push(Buffer.from(buf.subarray(start, end)));
  }

  private endLine(): void {
    const { first, last1, last2 } = this;
    this.first = this.last1 = this.last2 = -1;
    if (first === -1) {
      // Blank lines are tolerated only after the closing ]} (e.g. a trailing newline).
      if (this.expect !== "done") throw this.fail("empty line");
      this.line++;
      return;
    }
    switch (this.expect) {
      case "header":
        this.checkHeader();
        this.expect = "messageOrEnd";
        break;
      case "messageOrEnd":
      case "message":
      case "end":
        if (first === CLOSE_BRACKET) {
          const exact = last1 === CLOSE_BRACE && last2 === CLOSE_BRACKET && this.lastAt - this.firstAt === 1;
          if (!exact) throw this.fail("expected a message or the closing ]}");
          if (this.expect === "message") throw this.fail("the message before ]} ends with a comma");
          this.expect = "done";
        } else if (this.expect === "end") {
          throw this.fail("the previous message has no trailing comma but more messages follow");
        } else if (last1 === COMMA && last2 === CLOSE_BRACE) {
          this.messageCount++;
          this.expect = "message";
        } else if (last1 === CLOSE_BRACE) {
          this.messageCount++;
          this.expect = "end";
        } else {
          throw this.fail("message line does not end with } or },");
        }
        break;
      case "done":
        throw this.fail("data after the closing ]}");
    }
    this.line++;
  }

  private checkHeader(): void {
    const text = Buffer.concat(this.headerParts).toString("utf8").trim();
    this.headerParts = [];
    if (!text.endsWith(HEADER_END)) throw this.fail(`header line does not end with ${HEADER_END}`);
    let header: unknown;
    try {
      header = JSON.parse(`${text}]}`);
    } catch {
      throw this.fail("header line is not JSON");
    }
    if (typeof header !== "object" || header === null || Array.isArray(header)) {
      throw this.fail("header line is not a JSON object");
    }
  }

  private fail(problem: string): IntegrityError {
    return new IntegrityError(`history file framing: line ${this.line}: ${problem}`, {
      figure: "framing",
      line: this.line,
      problem,
    });
  }
}
