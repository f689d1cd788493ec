/**
 * A stand-in for an AWS KMS client holding one ECC_NIST_P256 key: GetPublicKey answers its DER
 * public key, Sign with MessageType DIGEST signs the given 32 bytes as they are (ECDSA, DER), as KMS
 * does. node:crypto always hashes what it signs, so the ECDSA step is done here with BigInt.
 */
import { generateKeyPairSync, type KeyObject, randomBytes } from "node:crypto";

const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const A = P - 3n;
const G: Point = [
  0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
  0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
];
type Point = [bigint, bigint] | null;

const mod = (a: bigint, m: bigint) => ((a % m) + m) % m;
function inverse(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [mod(a, m), m, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return mod(s0, m);
}
function add(p: Point, q: Point): Point {
  if (p === null) return q;
  if (q === null) return p;
  if (p[0] === q[0] && mod(p[1] + q[1], P) === 0n) return null;
  const l =
    p[0] === q[0] && p[1] === q[1]
      ? mod((3n * p[0] * p[0] + A) * inverse(2n * p[1], P), P)
      : mod((q[1] - p[1]) * inverse(q[0] - p[0], P), P);
  const x = mod(l * l - p[0] - q[0], P);
  return [x, mod(l * (p[0] - x) - p[1], P)];
}
function multiply(k: bigint, point: Point): Point {
  let result: Point = null;
  let addend = point;
  for (let e = k; e > 0n; e >>= 1n) {
    if (e & 1n) result = add(result, addend);
    addend = add(addend, addend);
  }
  return result;
}
const toBig = (b: Buffer) => BigInt(`0x${b.toString("hex") || "0"}`);
function derInteger(v: bigint): Buffer {
  let hex = v.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let bytes = Buffer.from(hex, "hex");
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
}

/** ECDSA over a 32-byte digest as given (no hashing), DER-encoded: KMS's Sign with MessageType DIGEST. */
export function signDigestP256(privateKey: KeyObject, digest: Buffer): Buffer {
  const d = toBig(Buffer.from(privateKey.export({ format: "jwk" }).d!, "base64url"));
  const e = toBig(digest);
  for (;;) {
    const k = mod(toBig(randomBytes(40)), N - 1n) + 1n;
    const r = mod(multiply(k, G)![0], N);
    const s = mod(inverse(k, N) * (e + r * d), N);
    if (r === 0n || s === 0n) continue;
    const body = Buffer.concat([derInteger(r), derInteger(s)]);
    return Buffer.concat([Buffer.from([0x30, body.length]), body]);
  }
}

export interface KmsStub {
  send(command: { input: unknown; constructor: { name: string } }): Promise<unknown>;
  /** Every command sent: its class name and input. */
  sent: { command: string; input: Record<string, unknown> }[];
  publicKey: KeyObject;
}

/** A stub KMS with a fresh P-256 key; `refuse` names an error every Sign answers with. */
export function kmsStub(options: { refuse?: string } = {}): KmsStub {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const sent: KmsStub["sent"] = [];
  return {
    sent,
    publicKey,
    async send(command) {
      const input = command.input as Record<string, unknown>;
      sent.push({ command: command.constructor.name, input });
      if (command.constructor.name === "GetPublicKeyCommand") {
        return {
          KeySpec: "ECC_NIST_P256",
          PublicKey: new Uint8Array(publicKey.export({ type: "spki", format: "der" })),
        };
      }
      if (options.refuse !== undefined) throw Object.assign(new Error("refused"), { name: options.refuse });
      return {
        Signature: new Uint8Array(signDigestP256(privateKey, Buffer.from(input.Message as Uint8Array))),
      };
    },
  };
}
