/**
 * A column chunk's dictionary keyed by the values' UTF-8 bytes: an open-addressing hash table
 * (FNV-1a) over the dictionary page's own bytes, so that a value found in a message line's bytes
 * is looked up without a JavaScript string made of it (a Map keyed by strings needed one per value).
 */
export class ByteDictionary {
  /** The dictionary page's values, PLAIN (4-byte little-endian length, then the bytes). */
  bytes = Buffer.allocUnsafe(64 * 1024);
  byteLength = 0;
  /** Where each value's bytes start in `bytes`, and their length. */
  #starts = new Int32Array(1024);
  #lengths = new Int32Array(1024);
  /** Slots of the hash table: a value's index + 1, or 0 when free. */
  #slots = new Int32Array(2048);
  size = 0;

  /** The index of the value `buf[start..end)`, added if new. */
  indexOf(buf: Uint8Array, start: number, end: number): number {
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    const slots = this.#slots;
    const mask = slots.length - 1;
    const n = end - start;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const found = slots[slot]!;
      if (found === 0) break;
      const index = found - 1;
      if (this.#lengths[index] !== n) continue;
      const at = this.#starts[index]!;
      const bytes = this.bytes;
      let i = 0;
      while (i < n && bytes[at + i] === buf[start + i]) i++;
      if (i === n) return index;
    }
    return this.#add(buf, start, end, h);
  }

  clear(): void {
    this.size = 0;
    this.byteLength = 0;
    this.#slots.fill(0);
    // Let a dictionary that grew past the usual size go.
    if (this.bytes.length > 4 * 1024 * 1024) this.bytes = Buffer.allocUnsafe(64 * 1024);
  }

  #add(buf: Uint8Array, start: number, end: number, hash: number): number {
    const n = end - start;
    if (this.byteLength + 4 + n > this.bytes.length) {
      let size = this.bytes.length * 2;
      while (size < this.byteLength + 4 + n) size *= 2;
      const next = Buffer.allocUnsafe(size);
      this.bytes.copy(next, 0, 0, this.byteLength);
      this.bytes = next;
    }
    const index = this.size++;
    if (index === this.#starts.length) {
      this.#starts = grow(this.#starts);
      this.#lengths = grow(this.#lengths);
    }
    this.bytes.writeUInt32LE(n, this.byteLength);
    this.#starts[index] = this.byteLength + 4;
    this.#lengths[index] = n;
    this.bytes.set(buf.subarray(start, end), this.byteLength + 4);
    this.byteLength += 4 + n;
    if (this.size * 2 > this.#slots.length) this.#rehash();
    else this.#place(hash, index);
    return index;
  }

  #place(hash: number, index: number): void {
    const slots = this.#slots;
    const mask = slots.length - 1;
    let slot = hash & mask;
    while (slots[slot] !== 0) slot = (slot + 1) & mask;
    slots[slot] = index + 1;
  }

  #rehash(): void {
    this.#slots = new Int32Array(this.#slots.length * 2);
    const bytes = this.bytes;
    for (let index = 0; index < this.size; index++) {
      const at = this.#starts[index]!;
      let h = 0x811c9dc5;
      for (let i = at; i < at + this.#lengths[index]!; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
      this.#place(h, index);
    }
  }
}

function grow(a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const next = new Int32Array(a.length * 2);
  next.set(a);
  return next;
}
