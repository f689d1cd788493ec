/**
 * Thrift's compact protocol, as much of it as Parquet's page headers and footer need: structs of
 * booleans, i32/i64, binary/strings, nested structs and lists. Encoding builds a Buffer from a plain
 * description (`[fieldId, value]` pairs); decoding reads any struct into a map of field id → value,
 * so a reader can pick out the fields it knows and skip the rest.
 */

export type ThriftValue =
  | { t: "bool"; v: boolean }
  | { t: "i32"; v: number }
  | { t: "i64"; v: number }
  | { t: "binary"; v: Uint8Array | string }
  | { t: "struct"; v: ThriftStruct }
  | { t: "list"; elem: "i32" | "binary" | "struct"; v: (number | Uint8Array | string | ThriftStruct)[] };

/** Fields in ascending id order; undefined values are left out. */
export type ThriftStruct = [number, ThriftValue | undefined][];

const BOOL_TRUE = 1;
const BOOL_FALSE = 2;
const I32 = 5;
const I64 = 6;
const BINARY = 8;
const LIST = 9;
const STRUCT = 12;

const TYPE_CODE = { i32: I32, binary: BINARY, struct: STRUCT } as const;

export const i32 = (v: number): ThriftValue => ({ t: "i32", v });
export const i64 = (v: number): ThriftValue => ({ t: "i64", v });
export const bool = (v: boolean): ThriftValue => ({ t: "bool", v });
export const binary = (v: Uint8Array | string): ThriftValue => ({ t: "binary", v });
export const struct = (v: ThriftStruct): ThriftValue => ({ t: "struct", v });
export const list = (
  elem: "i32" | "binary" | "struct",
  v: (number | Uint8Array | string | ThriftStruct)[],
): ThriftValue => ({
  t: "list",
  elem,
  v,
});

class Out {
  parts: number[] = [];
  buffers: Buffer[] = [];

  byte(b: number): void {
    this.parts.push(b & 0xff);
  }

  varint(n: number): void {
    // Unsigned varint of a non-negative safe integer (no 32-bit truncation).
    let v = n;
    while (v >= 0x80) {
      this.parts.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.parts.push(v);
  }

  zigzag(n: number): void {
    this.varint(n >= 0 ? n * 2 : -n * 2 - 1);
  }

  bytes(b: Uint8Array): void {
    this.flushParts();
    this.buffers.push(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  }

  flushParts(): void {
    if (this.parts.length > 0) {
      this.buffers.push(Buffer.from(this.parts));
      this.parts = [];
    }
  }

  result(): Buffer {
    this.flushParts();
    return Buffer.concat(this.buffers);
  }
}

function writeBinary(out: Out, v: Uint8Array | string): void {
  const b = typeof v === "string" ? Buffer.from(v, "utf8") : v;
  out.varint(b.length);
  out.bytes(b);
}

function writeStruct(out: Out, fields: ThriftStruct): void {
  let last = 0;
  for (const [id, value] of fields) {
    if (value === undefined) continue;
    const type = value.t === "bool" ? (value.v ? BOOL_TRUE : BOOL_FALSE) : typeCode(value);
    const delta = id - last;
    if (delta > 0 && delta <= 15) out.byte((delta << 4) | type);
    else {
      out.byte(type);
      out.zigzag(id);
    }
    last = id;
    writeValue(out, value);
  }
  out.byte(0);
}

function typeCode(value: ThriftValue): number {
  switch (value.t) {
    case "i32":
      return I32;
    case "i64":
      return I64;
    case "binary":
      return BINARY;
    case "struct":
      return STRUCT;
    case "list":
      return LIST;
    default:
      return BOOL_TRUE;
  }
}

function writeValue(out: Out, value: ThriftValue): void {
  switch (value.t) {
    case "bool":
      return;
    case "i32":
    case "i64":
      out.zigzag(value.v);
      return;
    case "binary":
      writeBinary(out, value.v);
      return;
    case "struct":
      writeStruct(out, value.v);
      return;
    case "list": {
      const code = TYPE_CODE[value.elem];
      if (value.v.length < 15) out.byte((value.v.length << 4) | code);
      else {
        out.byte(0xf0 | code);
        out.varint(value.v.length);
      }
      for (const item of value.v) {
        if (value.elem === "i32") out.zigzag(item as number);
        else if (value.elem === "binary") writeBinary(out, item as Uint8Array | string);
        else writeStruct(out, item as ThriftStruct);
      }
    }
  }
}

/** The compact-protocol bytes of a struct. */
export function encodeStruct(fields: ThriftStruct): Buffer {
  const out = new Out();
  writeStruct(out, fields);
  return out.result();
}

/** A decoded struct: field id → number, boolean, Buffer, nested struct or list of those. */
export type Decoded = Map<number, DecodedValue>;
export type DecodedValue = number | boolean | Buffer | Decoded | DecodedValue[];

/** Decodes one struct starting at `offset`; throws RangeError on bytes that are not one. */
export function decodeStruct(buf: Buffer, offset = 0): { value: Decoded; end: number } {
  const r = { buf, pos: offset };
  return { value: readStruct(r, 0), end: r.pos };
}

interface Reader {
  buf: Buffer;
  pos: number;
}

const MAX_DEPTH = 32;

function readByte(r: Reader): number {
  if (r.pos >= r.buf.length) throw new RangeError("thrift: unexpected end of data");
  return r.buf[r.pos++]!;
}

function readVarint(r: Reader): number {
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    const b = readByte(r);
    result += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return result;
    mul *= 0x80;
  }
  throw new RangeError("thrift: varint too long");
}

function readZigzag(r: Reader): number {
  const n = readVarint(r);
  return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
}

function readStruct(r: Reader, depth: number): Decoded {
  if (depth > MAX_DEPTH) throw new RangeError("thrift: nested too deeply");
  const fields: Decoded = new Map();
  let last = 0;
  for (;;) {
    const head = readByte(r);
    if (head === 0) return fields;
    const type = head & 0x0f;
    const delta = head >> 4;
    const id = delta === 0 ? readZigzag(r) : last + delta;
    last = id;
    fields.set(id, readValue(r, type, depth));
  }
}

function readValue(r: Reader, type: number, depth: number): DecodedValue {
  switch (type) {
    case BOOL_TRUE:
      return true;
    case BOOL_FALSE:
      return false;
    case 3: // byte
      return readByte(r);
    case 4: // i16
    case I32:
    case I64:
      return readZigzag(r);
    case 7: {
      // double
      if (r.pos + 8 > r.buf.length) throw new RangeError("thrift: unexpected end of data");
      const d = r.buf.readDoubleLE(r.pos);
      r.pos += 8;
      return d;
    }
    case BINARY: {
      const n = readVarint(r);
      if (r.pos + n > r.buf.length) throw new RangeError("thrift: unexpected end of data");
      const b = r.buf.subarray(r.pos, r.pos + n);
      r.pos += n;
      return b;
    }
    case LIST:
    case 10: {
      // list, set
      const head = readByte(r);
      const size = head >> 4 === 15 ? readVarint(r) : head >> 4;
      const elem = head & 0x0f;
      const items: DecodedValue[] = [];
      for (let i = 0; i < size; i++) {
        items.push(
          elem === BOOL_TRUE || elem === BOOL_FALSE ? readByte(r) === 1 : readValue(r, elem, depth + 1),
        );
      }
      return items;
    }
    case STRUCT:
      return readStruct(r, depth + 1);
    default:
      throw new RangeError(`thrift: unsupported type ${type}`);
  }
}
