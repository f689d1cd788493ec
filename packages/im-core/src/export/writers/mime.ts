/**
 * The RFC 5322 / MIME envelope of an RSMF file: a few headers, a text/plain part, and one base64
 * attachment streamed from the zip as it is made. Written by hand because it is fixed and this small;
 * a general mail composer would bring its own headers and a dependency for these few lines. Lines end
 * in CRLF; base64 lines hold 76 characters.
 */
import { randomBytes } from "node:crypto";

export const CRLF = "\r\n";
/** 57 bytes encode to one 76-character base64 line. */
const LINE_BYTES = 57;

/** Base64 of `bytes` in 76-character lines, each ended by CRLF. */
export function base64Lines(bytes: Buffer): string {
  return wrapBase64(bytes).toString("latin1");
}

/** Input bytes encoded at a time by Base64LineWriter: whole lines, about 1 MiB. */
const BLOCK_BYTES = LINE_BYTES * 18_396;

/**
 * Base64 in 76-character CRLF lines of the bytes written to it, handed to `sink` about 1 MiB at a
 * time; a partial line waits for more, or for `end`.
 */
export class Base64LineWriter {
  readonly #sink: (chunk: Buffer) => Promise<void>;
  readonly #block = Buffer.allocUnsafe(BLOCK_BYTES);
  #fill = 0;

  constructor(sink: (chunk: Buffer) => Promise<void>) {
    this.#sink = sink;
  }

  async write(bytes: Buffer): Promise<void> {
    let from = 0;
    while (from < bytes.length) {
      const n = Math.min(bytes.length - from, BLOCK_BYTES - this.#fill);
      bytes.copy(this.#block, this.#fill, from, from + n);
      this.#fill += n;
      from += n;
      if (this.#fill === BLOCK_BYTES) {
        this.#fill = 0;
        await this.#sink(wrapBase64(this.#block));
      }
    }
  }

  /** Writes what is left (the last line). */
  async end(): Promise<void> {
    const rest = this.#fill;
    this.#fill = 0;
    if (rest > 0) await this.#sink(wrapBase64(this.#block.subarray(0, rest)));
  }
}

/**
 * Base64 of `bytes`, a CRLF after every 76 characters and at the end. The base64 is written once,
 * shifted right by all of its CRLFs, and each line moved down into place (never over a line not yet
 * moved) with `copyWithin`, a V8 builtin, where a `Buffer#copy` a line into a second buffer was
 * slower (bench/README.md, "Export").
 */
function wrapBase64(bytes: Buffer): Buffer {
  const b64 = bytes.toString("base64");
  const lines = Math.ceil(b64.length / 76);
  const shift = 2 * lines;
  const out = Buffer.allocUnsafe(b64.length + shift);
  out.write(b64, shift, "latin1");
  let o = 0;
  for (let i = shift; i < out.length; i += 76) {
    const end = Math.min(i + 76, out.length);
    out.copyWithin(o, i, end);
    o += end - i;
    out[o++] = 13;
    out[o++] = 10;
  }
  return out;
}

/** An RFC 2047 encoded word when the text is not plain ASCII. */
export function headerText(text: string): string {
  if (/^[\x20-\x7e]*$/.test(text)) return text;
  return `=?UTF-8?B?${Buffer.from(text, "utf8").toString("base64")}?=`;
}

export function newBoundary(): string {
  return `imvault-rsmf-${randomBytes(12).toString("hex")}`;
}

/** Headers (name, value) then the start of a multipart/mixed body. */
export function messageHead(headers: readonly [string, string][], boundary: string): string {
  return (
    headers.map(([name, value]) => `${name}: ${value}${CRLF}`).join("") +
    `MIME-Version: 1.0${CRLF}Content-Type: multipart/mixed; boundary="${boundary}"${CRLF}${CRLF}` +
    `This is an RSMF file (Relativity Short Message Format 2.0) in MIME format.${CRLF}`
  );
}

export function textPart(boundary: string, text: string): string {
  return (
    `--${boundary}${CRLF}Content-Type: text/plain; charset=utf-8${CRLF}` +
    `Content-Transfer-Encoding: base64${CRLF}${CRLF}${base64Lines(Buffer.from(text, "utf8"))}`
  );
}

export function attachmentHead(boundary: string, filename: string): string {
  return (
    `--${boundary}${CRLF}Content-Type: application/octet-stream${CRLF}` +
    `Content-Disposition: attachment; filename="${filename}"${CRLF}` +
    `Content-Transfer-Encoding: base64${CRLF}${CRLF}`
  );
}

export function closeBoundary(boundary: string): string {
  return `--${boundary}--${CRLF}`;
}
