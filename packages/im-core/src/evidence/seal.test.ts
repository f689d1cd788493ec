import { createHash } from "node:crypto";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeArchivedHour } from "../../testing/evidence.ts";
import { manifestKey } from "../archive/layout.ts";
import type { Digest } from "../schemas/digest.ts";
import { createLocalStore, type LocalArchiveStore } from "../store/local-store.ts";
import type { ArchiveStore } from "../store/port.ts";
import { systemClock } from "../util/clock.ts";
import { checkDigest, checkLink } from "./check-digest.ts";
import { listDigestKeys, readDigest } from "./digest-file.ts";
import { digestKey } from "./layout.ts";
import { localSigner, localSigningKeyPath } from "./local-signer.ts";
import { readStored } from "./object-hash.ts";
import { sealDigest } from "./seal.ts";
import { type DigestSigner, signatureVerifier } from "./signer.ts";

let root: string;
let store: LocalArchiveStore;
let signer: DigestSigner;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "imvault-seal-"));
  store = createLocalStore({ root });
  signer = await localSigner(root);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const deps = () => ({ store, signer, clock: systemClock });
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

async function digestAt(seq: number): Promise<Digest> {
  const stored = await readDigest(store, digestKey(seq));
  if (stored?.digest === undefined) throw new Error(`no digest ${seq}: ${stored?.problem}`);
  return stored.digest;
}

describe("sealDigest", () => {
  it("seals each manifest's hash and each raw file's hash, signed, as the first digest of the chain", async () => {
    const { manifest, key } = await writeArchivedHour(store, "C2C", "2024050101", { files: 2 });

    const result = await sealDigest(deps());

    expect(result).toMatchObject({
      outcome: "sealed",
      key: "digests/000000000001.json",
      seq: 1,
      objects: 1,
      files: 2,
    });
    const digest = await digestAt(1);
    const manifestBytes = (await readStored(store, key))!;
    expect(digest.objects).toEqual([
      {
        key,
        sha256: sha256(manifestBytes),
        size: manifestBytes.length,
        lastModified: (await stat(join(root, key))).mtime.toISOString(),
        files: await Promise.all(
          manifest.files.map(async (f) => {
            const bytes = (await readStored(store, f.key))!;
            return { key: f.key, sha256: sha256(bytes), size: bytes.length };
          }),
        ),
      },
    ]);
    expect(digest).toMatchObject({
      previousDigestKey: null,
      previousDigestHashValue: null,
      previousDigestSignature: null,
      digestSignatureAlgorithm: "Ed25519",
    });
    const verifier = signatureVerifier(await signer.publicKeyPem());
    expect(checkDigest((await readDigest(store, digestKey(1)))!, verifier)).toEqual([]);
  });

  it("takes a raw file's SHA-256 from its manifest when the manifest records it", async () => {
    const { manifest } = await writeArchivedHour(store, "Group", "2024050102");
    const recorded = "ab".repeat(32);
    await store.put(
      manifestKey("Group", "2024050102"),
      JSON.stringify({
        ...manifest,
        files: manifest.files.map((f) => ({ ...f, gzipSha256: recorded })),
      }),
    );

    await sealDigest(deps());

    expect((await digestAt(1)).objects[0]!.files).toEqual([
      { key: manifest.files[0]!.key, sha256: recorded, size: manifest.files[0]!.gzipSize },
    ]);
  });

  it("reads no raw file when the manifests record their SHA-256s, and reads each once when they do not", async () => {
    const recorded = await writeArchivedHour(store, "C2C", "2024050101", { files: 3, sha256s: true });
    const old = await writeArchivedHour(store, "Group", "2024050101", { files: 2 });
    const reads: string[] = [];
    const counting: ArchiveStore = {
      ...store,
      get: (key) => {
        reads.push(key);
        return store.get(key);
      },
    };

    await sealDigest({ ...deps(), store: counting });

    const rawReads = reads.filter((key) => key.startsWith("raw/")).sort();
    expect(rawReads).toEqual(old.manifest.files.map((f) => f.key).sort());
    const sealed = (await digestAt(1)).objects.find((o) => o.key === recorded.key)!;
    expect(sealed.files).toEqual(
      recorded.manifest.files.map((f) => ({ key: f.key, sha256: f.gzipSha256, size: f.gzipSize })),
    );
    // What the manifest records is the SHA-256 of the stored bytes (the verifier computed it).
    for (const f of recorded.manifest.files)
      expect(f.gzipSha256).toBe(sha256((await readStored(store, f.key))!));
  });

  it("links each digest to the previous one by key, hash and signature, and seals only what is new", async () => {
    await writeArchivedHour(store, "C2C", "2024050101");
    await sealDigest(deps());
    const { key: second } = await writeArchivedHour(store, "C2C", "2024050102");

    const result = await sealDigest(deps());

    expect(result).toMatchObject({ outcome: "sealed", seq: 2, objects: 1 });
    const [one, two] = [(await readDigest(store, digestKey(1)))!, (await readDigest(store, digestKey(2)))!];
    expect(two.digest!.objects.map((o) => o.key)).toEqual([second]);
    expect(two.digest).toMatchObject({
      previousDigestKey: digestKey(1),
      previousDigestHashValue: one.sha256,
      previousDigestSignature: one.digest!.signature,
      digestStartTime: one.digest!.digestEndTime,
    });
    expect(checkLink(two, one)).toEqual({ newer: [], older: [] });
  });

  it("seals nothing when nothing is new, unless an empty digest is due", async () => {
    await writeArchivedHour(store, "C2C", "2024050101");
    await sealDigest(deps());

    const idle = await sealDigest(deps());
    const notDue = await sealDigest(deps(), { emptyAfterMs: 3_600_000 });
    const due = await sealDigest(deps(), { emptyAfterMs: 0 });

    expect(idle).toMatchObject({ outcome: "nothing-new", objects: 0 });
    expect(notDue.outcome).toBe("nothing-new");
    expect(due).toMatchObject({ outcome: "sealed", seq: 2, objects: 0 });
    expect((await digestAt(2)).objects).toEqual([]);
  });

  it("seals an empty digest as the first one when the scheduler asks on an empty archive", async () => {
    const result = await sealDigest(deps(), { emptyAfterMs: 3_600_000 });

    expect(result).toMatchObject({ outcome: "sealed", seq: 1, objects: 0 });
  });

  it("concurrent sealers make one chain: the loser seals on the winner's digest, never beside it", async () => {
    for (let h = 0; h < 6; h++)
      await writeArchivedHour(store, "C2C", `20240501${String(h).padStart(2, "0")}`);

    const results = await Promise.all([1, 2, 3].map(() => sealDigest(deps(), { emptyAfterMs: 0 })));

    const keys = await listDigestKeys(store);
    expect(keys.map((k) => k.seq)).toEqual([1, 2, 3]);
    expect(results.map((r) => r.seq).sort()).toEqual([1, 2, 3]);
    expect(results.some((r) => r.retries > 0)).toBe(true); // they did collide on a number
    for (const { seq } of keys.slice(1)) {
      const [newer, older] = [
        (await readDigest(store, digestKey(seq)))!,
        (await readDigest(store, digestKey(seq - 1)))!,
      ];
      expect(checkLink(newer, older)).toEqual({ newer: [], older: [] });
    }
    const sealedKeys = (await Promise.all(keys.map((k) => digestAt(k.seq)))).flatMap((d) =>
      d.objects.map((o) => o.key),
    );
    expect(sealedKeys).toHaveLength(6);
    expect(new Set(sealedKeys).size).toBe(6);
  });

  it("a manifest committed while a digest was being listed, after the listing passed it, goes into the next digest", async () => {
    await writeArchivedHour(store, "C2C", "2024050101");
    const late = manifestKey("Group", "2024050101");
    let injected = false;
    // The first sealer lists manifests/; the Group manifest is committed once the listing has passed it.
    const racing: ArchiveStore = {
      ...store,
      list: (prefix) => ({
        async *[Symbol.asyncIterator]() {
          yield* store.list(prefix);
          if (prefix === "manifests/" && !injected) {
            injected = true;
            await writeArchivedHour(store, "Group", "2024050101");
          }
        },
      }),
    };

    await sealDigest({ ...deps(), store: racing });
    const next = await sealDigest(deps());

    expect((await digestAt(1)).objects.map((o) => o.key)).not.toContain(late);
    expect(next).toMatchObject({ outcome: "sealed", seq: 2 });
    expect((await digestAt(2)).objects.map((o) => o.key)).toEqual([late]);
  });

  it("seals a large backlog in parts: what one digest leaves, the next seals, nothing twice", async () => {
    for (let h = 0; h < 5; h++)
      await writeArchivedHour(store, "C2C", `20240501${String(h).padStart(2, "0")}`);

    const first = await sealDigest(deps(), { maxObjects: 2 });
    const second = await sealDigest(deps(), { maxObjects: 2 });
    const third = await sealDigest(deps(), { maxObjects: 2 });
    const fourth = await sealDigest(deps(), { maxObjects: 2 });

    expect([first, second, third, fourth].map((r) => r.objects)).toEqual([2, 2, 1, 0]);
    const sealed = [await digestAt(1), await digestAt(2), await digestAt(3)].flatMap((d) =>
      d.objects.map((o) => o.key),
    );
    expect(new Set(sealed).size).toBe(5);
  });

  it("reseals a manifest whose bytes changed after it was sealed (verify then names it modified)", async () => {
    const { manifest, key } = await writeArchivedHour(store, "C2C", "2024050101");
    await sealDigest(deps());
    await new Promise((r) => setTimeout(r, 5));
    await store.put(key, JSON.stringify({ ...manifest, archivedAt: new Date(0).toISOString() }));

    const result = await sealDigest(deps());

    expect(result).toMatchObject({ outcome: "sealed", seq: 2, objects: 1 });
    expect((await digestAt(2)).objects[0]!.sha256).not.toBe((await digestAt(1)).objects[0]!.sha256);
  });

  it("keeps one local key: created once, mode 0600, the same for every sealer", async () => {
    const again = await localSigner(root);

    expect(await again.publicKeyPem()).toBe(await signer.publicKeyPem());
    expect((await stat(localSigningKeyPath(root))).mode & 0o777).toBe(0o600);
  });
});
