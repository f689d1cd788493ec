/** Checks a plain history file's line layout and counts its messages: see createHistoryFraming. */
export interface HistoryFraming {
  /** Complete message lines seen so far (up to the first problem). */
  readonly messageCount: number;
  /** The first layout problem ("line N: …"), once seen; bytes after it are not looked at. */
  readonly problem: string | undefined;
  /** Feeds the next plain bytes, in any chunking. */
  push(buf: Buffer): void;
  /** The plain bytes are over; notes a problem if the layout is incomplete. */
  finish(): void;
}

/**
 * Checks the documented line layout of a plain history file and counts its messages, without
 * parsing them: a header line `{…,"MsgList":[`, one message a line (`{…},`, the last one `{…}`), then
 * `]}`; nothing but whitespace after. Only the header is JSON-parsed (it is one short line). The first
 * line that breaks the layout is noted in `problem`, and nothing after it is looked at.
 *
 * Self-contained on purpose: the gunzip thread runs this very function, from its source text
 * (`String(createHistoryFraming)`, see off-thread-gunzip.ts), on the plain bytes it inflates, so
 * they need not cross back to the calling thread. So it refers to nothing outside itself but
 * globals (Buffer, JSON), and declares no named inner function or class: under the deployment's
 * esbuild `keepNames`, those would call a bundle-level helper the thread does not have. The bundle
 * test (verify-stream.bundle.test.ts) runs it from a bundle made with those options.
 */
export function createHistoryFraming(): HistoryFraming {
  const NL = 0x0a;
  const OPEN_BRACE = 0x7b; // {
  const CLOSE_BRACE = 0x7d; // }
  const CLOSE_BRACKET = 0x5d; // ]
  const COMMA = 0x2c;
  const HEADER_END = '"MsgList":[';
  // The header line is tiny in practice; refuse to buffer more than this while looking for its end.
  const MAX_HEADER_BYTES = 1024 * 1024;

  // What the next line may be: "header" | "messageOrEnd" | "message" | "end" | "done".
  let expect = "header";
  let line = 1;
  let headerParts: Buffer[] = [];
  let headerBytes = 0;
  // The current line, as far as seen: its first non-blank byte and its last two non-blank bytes
  // (-1 = none yet), and where they are (to recognise exactly `]}`).
  let first = -1;
  let last1 = -1;
  let last2 = -1;
  let firstAt = 0;
  let lastAt = 0;
  let offset = 0;

  const framing = {
    messageCount: 0,
    problem: undefined as string | undefined,

    push(buf: Buffer): void {
      if (framing.problem !== undefined) return;
      const base = offset;
      offset += buf.length;
      let pos = 0;
      try {
        for (;;) {
          pos = framing.messageLines(buf, pos);
          const nl = buf.indexOf(NL, pos);
          const end = nl === -1 ? buf.length : nl;
          if (end > pos) framing.segment(buf, pos, end, base);
          if (nl === -1) return;
          framing.endLine();
          pos = nl + 1;
        }
      } catch (err) {
        framing.problem = (err as Error).message;
      }
    },

    /**
     * The common case, taken apart from segment/endLine (which reach the same verdict, slower): the
     * lines whole in `buf` from `start` where a message may come and that are exactly `{…},`. Returns
     * where the first other line starts. A small function with the loop of its own, so that V8
     * optimizes it alone: when the loop was in push, V8 compiled push with segment and endLine
     * inlined, ~24 ms of background CPU per `imvault archive` of a 100 MiB hour, against 3–11 ms
     * now; framing that hour's plain bytes alone takes ~25 ms instead of ~33.
     */
    messageLines(buf: Buffer, start: number): number {
      if (first !== -1 || (expect !== "message" && expect !== "messageOrEnd")) return start;
      let pos = start;
      let count = 0;
      for (;;) {
        const nl = buf.indexOf(NL, pos);
        if (
          nl <= pos + 2 ||
          buf[pos] !== OPEN_BRACE ||
          buf[nl - 1] !== COMMA ||
          buf[nl - 2] !== CLOSE_BRACE
        ) {
          break;
        }
        count++;
        pos = nl + 1;
      }
      if (count > 0) {
        framing.messageCount += count;
        line += count;
        expect = "message";
      }
      return pos;
    },

    finish(): void {
      if (framing.problem !== undefined) return;
      try {
        if (first !== -1) framing.endLine();
        if (expect !== "done") {
          throw framing.fail(
            `file ended before ${expect === "header" ? "a header line" : "the closing ]} line"}`,
          );
        }
      } catch (err) {
        framing.problem = (err as Error).message;
      }
    },

    /** Space, tab, CR: Tencent's own sample ends the last message line with a space. */
    isBlank(b: number): boolean {
      return b === 0x20 || b === 0x09 || b === 0x0d;
    },

    segment(buf: Buffer, start: number, end: number, base: number): void {
      if (expect === "header") framing.keepHeader(buf, start, end);
      let i = start;
      if (first === -1) {
        while (i < end && framing.isBlank(buf[i]!)) i++;
        if (i === end) return;
        first = buf[i]!;
        firstAt = base + i;
        if (expect === "done") throw framing.fail("data after the closing ]}");
        if (first !== OPEN_BRACE && first !== CLOSE_BRACKET)
          throw framing.fail("line does not start with { or ]");
      }
      let j = end - 1;
      while (j >= i && framing.isBlank(buf[j]!)) j--;
      if (j < i) return;
      lastAt = base + j;
      const b1 = buf[j]!;
      j--;
      while (j >= i && framing.isBlank(buf[j]!)) j--;
      last2 = j >= i ? buf[j]! : last1;
      last1 = b1;
    },

    keepHeader(buf: Buffer, start: number, end: number): void {
      headerBytes += end - start;
      if (headerBytes > MAX_HEADER_BYTES)
        throw framing.fail(`header line longer than ${MAX_HEADER_BYTES} bytes`);
      headerParts.push(Buffer.from(buf.subarray(start, end)));
    },

    endLine(): void {
      const f = first;
      const l1 = last1;
      const l2 = last2;
      first = last1 = last2 = -1;
      if (f === -1) {
        // Blank lines are tolerated only after the closing ]} (e.g. a trailing newline).
        if (expect !== "done") throw framing.fail("empty line");
        line++;
        return;
      }
      if (expect === "header") {
        framing.checkHeader();
        expect = "messageOrEnd";
      } else if (expect === "done") {
        throw framing.fail("data after the closing ]}");
      } else if (f === CLOSE_BRACKET) {
        const exact = l1 === CLOSE_BRACE && l2 === CLOSE_BRACKET && lastAt - firstAt === 1;
        if (!exact) throw framing.fail("expected a message or the closing ]}");
        if (expect === "message") throw framing.fail("the message before ]} ends with a comma");
        expect = "done";
      } else if (expect === "end") {
        throw framing.fail("the previous message has no trailing comma but more messages follow");
      } else if (l1 === COMMA && l2 === CLOSE_BRACE) {
        framing.messageCount++;
        expect = "message";
      } else if (l1 === CLOSE_BRACE) {
        framing.messageCount++;
        expect = "end";
      } else {
        throw framing.fail("message line does not end with } or },");
      }
      line++;
    },

    checkHeader(): void {
      const text = Buffer.concat(headerParts).toString("utf8").trim();
      headerParts = [];
      if (!text.endsWith(HEADER_END)) throw framing.fail(`header line does not end with ${HEADER_END}`);
      let header: unknown;
      try {
        header = JSON.parse(`${text}]}`);
      } catch {
        throw framing.fail("header line is not JSON");
      }
      if (typeof header !== "object" || header === null || Array.isArray(header)) {
        throw framing.fail("header line is not a JSON object");
      }
    },

    fail(problem: string): Error {
      return new Error(`history file framing: line ${line}: ${problem}`);
    },
  };
  return framing;
}
