import { createHash } from "node:crypto";

/**
 * sfc32: a small, fast PRNG with 128 bits of state, in 32-bit integer arithmetic only. Good enough for
 * test data and many times faster than anything crypto; seeded from a string through SHA-256 so that
 * nearby seeds ("hour 1", "hour 2") give unrelated streams.
 */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: string) {
    const h = createHash("sha256").update(seed, "utf8").digest();
    this.#a = h.readUInt32LE(0);
    this.#b = h.readUInt32LE(4);
    this.#c = h.readUInt32LE(8);
    this.#d = h.readUInt32LE(12);
    // Warm up so that the first outputs do not echo the seed bytes.
    for (let i = 0; i < 12; i++) this.next();
  }

  /** A uint32. */
  next(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1). */
  float(): number {
    return this.next() / 4294967296;
  }

  /** An integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.float() * xs.length)]!;
  }

  /** `n` lowercase hex digits (n a multiple of 8). */
  hex(n: number): string {
    let s = "";
    for (let i = 0; i < n; i += 8) s += hex8(this.next());
    return s;
  }
}

const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** A uint32 as 8 lowercase hex digits (table lookups: this is on the generator's hot path). */
export function hex8(u: number): string {
  return HEX_BYTE[u >>> 24]! + HEX_BYTE[(u >>> 16) & 255]! + HEX_BYTE[(u >>> 8) & 255]! + HEX_BYTE[u & 255]!;
}

/**
 * A keyed 32-bit mix (murmur3's finaliser steps). Not cryptography: it only lets the simulator
 * recognise media URLs it minted itself without remembering them.
 */
export function mix32(key: number, a: number, b: number, c: number): number {
  let h = (key ^ 0x9e3779b9) | 0;
  h = Math.imul(h ^ a, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h ^ b, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h ^ c, 0x27d4eb2f);
  h ^= h >>> 15;
  return h >>> 0;
}

/** A uint32 derived from a string (for keys and per-app constants). */
export function hash32(text: string): number {
  return createHash("sha256").update(text, "utf8").digest().readUInt32LE(0);
}

/** A uniform float in [0, 1) derived from a string: the same string always lands in the same place. */
export function unitHash(text: string): number {
  return hash32(text) / 4294967296;
}
