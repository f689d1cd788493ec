const NL = 0x0a;
const OPEN_BRACE = 0x7b; // {
const CLOSE_BRACE = 0x7d; // }
const CLOSE_BRACKET = 0x5d; // ]
const COMMA = 0x2c;
const HEADER_END = '"MsgList":[';
/** The header line is tiny in practice; no more than this is buffered while looking for its end. */
const MAX_HEADER_BYTES = 1024 * 1024;

/** What the next line may be. */
type Expect = "header" | "messageOrEnd" | "message" | "end" | "done";

/** Space, tab, CR: Tencent's own sample ends the last message line with a space. */
function isBlank(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0d;
}

/**
 * Checks the documented line layout of a plain history file and counts its messages, without
 * parsing them: a header line `{…,"MsgList":[`, one message a line (`{…},`, the last one `{…}`), then
 * `]}`; nothing but whitespace after. Only the header is JSON-parsed (it is one short line). The first
 * line that breaks the layout is noted in `problem`, and nothing after it is looked at.
 *
 * Feed it the plain bytes in any chunking (`push`), then call `finish`.
 */
export class HistoryFraming {
  #messageCount = 0;
  #problem: string | undefined;
  private expect: Expect = "header";
  /** The line number of the current line (1-based). */
  private line = 1;
  private headerParts: Buffer[] = [];
  private headerBytes = 0;
  // The current line, as far as seen: its first non-blank byte and its last two non-blank bytes
  // (-1 = none yet), and where they are in the file (to recognise exactly `]}`).
  private first = -1;
  private last1 = -1;
  private last2 = -1;
  private firstAt = 0;
  private lastAt = 0;
  /** Bytes pushed so far. */
  private offset = 0;

  /** Complete message lines seen so far (up to the first problem). */
  get messageCount(): number {
    return this.#messageCount;
  }

  /** The first layout problem ("history file framing: line N: …"), once seen. */
  get problem(): string | undefined {
    return this.#problem;
  }

  /** Feeds the next plain bytes. */
  push(buf: Buffer): void {
    if (this.#problem !== undefined) return;
    const base = this.offset;
    this.offset += buf.length;
    let pos = 0;
    try {
      for (;;) {
        pos = this.messageLines(buf, pos);
        const nl = buf.indexOf(NL, pos);
        const end = nl === -1 ? buf.length : nl;
        if (end > pos) this.segment(buf, pos, end, base);
        if (nl === -1) return;
        this.endLine();
        pos = nl + 1;
      }
    } catch (err) {
      this.#problem = (err as Error).message;
    }
  }

  /** The plain bytes are over; notes a problem if the layout is incomplete. */
  finish(): void {
    if (this.#problem !== undefined) return;
    try {
      if (this.first !== -1) this.endLine();
      if (this.expect !== "done") {
        throw this.fail(
          `file ended before ${this.expect === "header" ? "a header line" : "the closing ]} line"}`,
        );
      }
    } catch (err) {
      this.#problem = (err as Error).message;
    }
  }

  /**
   * The common case, apart from segment/endLine (which reach the same verdict, slower): the lines
   * whole in `buf` from `start`, where a message may come, that are exactly `{…},`. Returns where the
   * first other line starts. A small method with a loop of its own, so that V8 optimizes it alone
   * rather than as part of `push` with everything inlined (bench/README.md, "Verifier").
   */
  private messageLines(buf: Buffer, start: number): number {
    if (this.first !== -1 || (this.expect !== "message" && this.expect !== "messageOrEnd")) return start;
    let pos = start;
    let count = 0;
    for (;;) {
      const nl = buf.indexOf(NL, pos);
      if (nl <= pos + 2 || buf[pos] !== OPEN_BRACE || buf[nl - 1] !== COMMA || buf[nl - 2] !== CLOSE_BRACE) {
        break;
      }
      count++;
      pos = nl + 1;
    }
    if (count > 0) {
      this.#messageCount += count;
      this.line += count;
      this.expect = "message";
    }
    return pos;
  }

  /** Takes in part of a line (`buf[start, end)`, no newline in it); `base` is where `buf` starts in the file. */
  private segment(buf: Buffer, start: number, end: number, base: number): void {
    if (this.expect === "header") this.keepHeader(buf, start, end);
    let i = start;
    if (this.first === -1) {
      while (i < end && isBlank(buf[i]!)) i++;
      if (i === end) return;
      this.first = buf[i]!;
      this.firstAt = base + i;
      if (this.expect === "done") throw this.fail("data after the closing ]}");
      if (this.first !== OPEN_BRACE && this.first !== CLOSE_BRACKET)
        throw this.fail("line does not start with { or ]");
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

  /** A newline: judges the line that ends here. */
  private endLine(): void {
    const f = this.first;
    const l1 = this.last1;
    const l2 = this.last2;
    this.first = this.last1 = this.last2 = -1;
    if (f === -1) {
      // Blank lines are tolerated only after the closing ]} (e.g. a trailing newline).
      if (this.expect !== "done") throw this.fail("empty line");
      this.line++;
      return;
    }
    if (this.expect === "header") {
      this.checkHeader();
      this.expect = "messageOrEnd";
    } else if (this.expect === "done") {
      throw this.fail("data after the closing ]}");
    } else if (f === CLOSE_BRACKET) {
      const exact = l1 === CLOSE_BRACE && l2 === CLOSE_BRACKET && this.lastAt - this.firstAt === 1;
      if (!exact) throw this.fail("expected a message or the closing ]}");
      if (this.expect === "message") throw this.fail("the message before ]} ends with a comma");
      this.expect = "done";
    } else if (this.expect === "end") {
      throw this.fail("the previous message has no trailing comma but more messages follow");
    } else if (l1 === COMMA && l2 === CLOSE_BRACE) {
      this.#messageCount++;
      this.expect = "message";
    } else if (l1 === CLOSE_BRACE) {
      this.#messageCount++;
      this.expect = "end";
    } else {
      throw this.fail("message line does not end with } or },");
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

  private fail(problem: string): Error {
    return new Error(`history file framing: line ${this.line}: ${problem}`);
  }
}
