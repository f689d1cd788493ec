import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomUUID,
  sign,
} from "node:crypto";
import { link, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ImvaultError } from "../errors.ts";
import { LOCAL_STATE_DIR } from "../store/local-store.ts";
import type { DigestSigner } from "./signer.ts";

/** The local signing key: Ed25519, PKCS#8 PEM, readable by the owner only. */
export const LOCAL_SIGNING_KEY_FILE = "digest-signing-key.pem";

export function localSigningKeyPath(dataDir: string): string {
  return join(dataDir, LOCAL_STATE_DIR, LOCAL_SIGNING_KEY_FILE);
}

function signerOf(privateKey: KeyObject): DigestSigner {
  const publicPem = createPublicKey(privateKey).export({ type: "spki", format: "pem" }).toString();
  return {
    algorithm: "Ed25519",
    publicKeyPem: async () => publicPem,
    sign: async (digestHash) => sign(null, digestHash, privateKey),
  };
}

async function readKey(path: string): Promise<KeyObject | undefined> {
  let pem: string;
  try {
    pem = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType !== "ed25519") throw new Error(`a ${key.asymmetricKeyType} key`);
    return key;
  } catch (error) {
    // Never the key's text: only where it is and what is wrong.
    throw new ImvaultError(`the digest signing key ${path} is not an Ed25519 private key`, {
      details: { path, problem: error instanceof Error ? error.message : String(error) },
    });
  }
}

/** The local signer, if DATA_DIR has a key; never creates one (what `verify` and `status` use). */
export async function existingLocalSigner(dataDir: string): Promise<DigestSigner | undefined> {
  const key = await readKey(localSigningKeyPath(dataDir));
  return key === undefined ? undefined : signerOf(key);
}

/**
 * The local signer: the Ed25519 key under DATA_DIR/.imvault, created on first use (mode 0600). Two
 * processes creating it at once end with one key: each writes a temp file and links it into place,
 * which never replaces an existing name, and the one that loses reads the winner's.
 */
export async function localSigner(dataDir: string): Promise<DigestSigner> {
  const path = localSigningKeyPath(dataDir);
  const existing = await readKey(path);
  if (existing !== undefined) return signerOf(existing);
  await mkdir(join(dataDir, LOCAL_STATE_DIR), { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync("ed25519");
  const temp = `${path}.${process.pid}.${randomUUID()}.tmp`;
  await writeFile(temp, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600, flag: "wx" });
  try {
    await link(temp, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    await unlink(temp).catch(() => {});
  }
  const key = await readKey(path);
  if (key === undefined) throw new ImvaultError(`the digest signing key ${path} vanished as it was made`);
  return signerOf(key);
}
