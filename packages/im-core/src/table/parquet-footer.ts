/**
 * Reads a Parquet file's footer from a stream of the whole file (the store has no range reads),
 * keeping only its tail in memory, and answers its key-value metadata.
 */
import { IntegrityError } from "../errors.ts";
import { type Decoded, type DecodedValue, decodeStruct } from "./thrift.ts";

/** The footers written here are a few KiB; anything past this is not one of ours. */
const MAX_FOOTER_BYTES = 16 * 1024 * 1024;

export async function parquetFooter(file: AsyncIterable<Uint8Array>): Promise<Decoded> {
  const tail: Buffer[] = [];
  let tailBytes = 0;
  let total = 0;
  for await (const chunk of file) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    tail.push(b);
    tailBytes += b.length;
    total += b.length;
    while (tail.length > 1 && tailBytes - tail[0]!.length >= MAX_FOOTER_BYTES + 8) {
      tailBytes -= tail.shift()!.length;
    }
  }
  const buf = Buffer.concat(tail, tailBytes);
  if (total < 12 || buf.toString("latin1", buf.length - 4) !== "PAR1") {
    throw new IntegrityError("not a Parquet file: no PAR1 at its end");
  }
  const length = buf.readUInt32LE(buf.length - 8);
  if (length > MAX_FOOTER_BYTES || length > buf.length - 8) {
    throw new IntegrityError("Parquet footer length out of range");
  }
  try {
    return decodeStruct(buf.subarray(buf.length - 8 - length, buf.length - 8)).value;
  } catch (err) {
    throw new IntegrityError(`Parquet footer unreadable: ${(err as Error).message}`);
  }
}

/** FileMetaData.key_value_metadata (field 5) as an object. */
export async function parquetKeyValue(file: AsyncIterable<Uint8Array>): Promise<Record<string, string>> {
  return keyValueOf(await parquetFooter(file));
}

export function keyValueOf(footer: Decoded): Record<string, string> {
  const out: Record<string, string> = {};
  const list = footer.get(5);
  if (!Array.isArray(list)) return out;
  for (const item of list as DecodedValue[]) {
    if (!(item instanceof Map)) continue;
    const k = item.get(1);
    const v = item.get(2);
    if (Buffer.isBuffer(k)) out[k.toString("utf8")] = Buffer.isBuffer(v) ? v.toString("utf8") : "";
  }
  return out;
}
