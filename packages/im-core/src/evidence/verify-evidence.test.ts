import { generateKeyPairSync, sign } from "node:crypto";
import { mkdtemp, rename, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeArchivedHour } from "../../testing/evidence.ts";
import { makeHistoryFile } from "../../testing/history.ts";
import { manifestKey } from "../archive/layout.ts";
import { writeManifest } from "../archive/manifest.ts";
import { writeMediaManifest } from "../media/manifest.ts";
import { createLocalStore, type LocalArchiveStore } from "../store/local-store.ts";
import { systemClock } from "../util/clock.ts";
import { readDigest } from "./digest-file.ts";
import { digestKey } from "./layout.ts";
import { localSigner } from "./local-signer.ts";
import { readStored } from "./object-hash.ts";
import { sealDigest } from "./seal.ts";
import {
  type DigestSignatureVerifier,
  digestBodyBytes,
  sha256Hex,
  signatureVerifier,
  stringToSign,
} from "./signer.ts";
import { type EvidenceReport, verifyEvidence } from "./verify-evidence.ts";

let root: string;
let store: LocalArchiveStore;
let verifier: DigestSignatureVerifier;
const HOURS = ["2024050101", "2024050102", "2024050103"];

/** Three sealed digests, one hour each, as the scheduler leaves them. */
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "imvault-verify-evidence-"));
  store = createLocalStore({ root });
  const signer = await localSigner(root);
  verifier = signatureVerifier(await signer.publicKeyPem());
  for (const hour of HOURS) {
    await writeArchivedHour(store, "C2C", hour, { files: 2 });
    await sealDigest({ store, signer, clock: systemClock });
  }
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const verify = (options: Partial<Parameters<typeof verifyEvidence>[1]> = {}) =>
  verifyEvidence(store, { verifier, now: Date.now(), ...options });
const path = (key: string) => join(root, ...key.split("/"));
const bad = (report: EvidenceReport) => [
  ...report.digests.filter((d) => !d.valid).map((d) => `${d.key}: ${d.problems.join("; ")}`),
  ...report.objects.filter((o) => o.status !== "valid").map((o) => `${o.status} ${o.kind} ${o.key}`),
  ...report.problems,
];

describe("verifyEvidence", () => {
  it("passes a clean archive: every digest, manifest and raw file valid, files checked against their seal", async () => {
    const report = await verify();

    expect(bad(report)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.digests.map((d) => d.key)).toEqual([digestKey(3), digestKey(2), digestKey(1)]);
    expect(report.objects.filter((o) => o.kind === "object")).toHaveLength(3);
    expect(report.objects.filter((o) => o.kind === "raw file")).toHaveLength(6);
    expect(report.files).toMatchObject({ manifests: 3, files: 6, sealedFiles: 6, problems: [] });
  });

  it("catches a raw file and its manifest rewritten together, which the manifest check alone cannot", async () => {
    const key = manifestKey("C2C", HOURS[1]!);
    const manifest = JSON.parse((await readStored(store, key))!.toString());
    const forged = makeHistoryFile("C2C", HOURS[1]!, 3, "https://x.tim.qq.com/f.gz", 0);
    const raw = manifest.files[0].key as string;
    await writeFile(path(raw), forged.gz);
    manifest.files[0] = {
      ...manifest.files[0],
      gzipSize: forged.history.gzipSize,
      gzipMd5: forged.history.gzipMd5,
      fileSize: forged.history.fileSize,
      fileMd5: forged.history.fileMd5,
      messageCount: 3,
    };
    await writeFile(path(key), JSON.stringify(manifest));

    const report = await verify();
    const deep = await verify({ verifier: undefined });

    expect(report.ok).toBe(false);
    expect(bad(report)).toEqual([`modified object ${key}`, `modified raw file ${raw}`]);
    // Without the chain, the rewritten pair is consistent: the old check finds nothing.
    expect(deep.files.problems).toEqual([]);
  });

  it("names a deleted manifest missing", async () => {
    const key = manifestKey("C2C", HOURS[0]!);
    await unlink(path(key));

    const report = await verify();

    expect(report.ok).toBe(false);
    expect(bad(report)).toEqual([`missing object ${key}`]);
  });

  it("names a deleted digest missing, named by the one after it", async () => {
    await unlink(path(digestKey(2)));

    const report = await verify({ now: Date.now() + 3 * 3_600_000 });

    expect(report.ok).toBe(false);
    // What only the deleted digest sealed is no longer sealed by any: named too.
    expect(bad(report)).toEqual([
      `${digestKey(2)}: missing (${digestKey(3)} names it as its previous digest)`,
      `unsealed object ${manifestKey("C2C", HOURS[1]!)}`,
    ]);
  });

  it("catches a deleted head through the last verification's record", async () => {
    const before = await verify();
    await unlink(path(digestKey(3)));

    const report = await verify({
      previous: {
        version: 1,
        verifiedAt: "2024-05-01T04:00:00.000Z",
        ok: true,
        head: before.head!,
        digests: { valid: 3, total: 3 },
        objects: { valid: 9, total: 9 },
        summary: "",
      },
    });

    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      `the verification of 2024-05-01T04:00:00.000Z saw ${digestKey(3)} as the head; the newest digest now is ${digestKey(2)}: digests were deleted`,
    ]);
  });

  it("catches an edited digest: its signature fails and the next digest's link names it", async () => {
    const stored = (await readDigest(store, digestKey(2)))!;
    const raw = stored.raw as { objects: { sha256: string }[] };
    raw.objects[0]!.sha256 = "0".repeat(64);
    await writeFile(path(digestKey(2)), JSON.stringify(raw, null, 2));

    const report = await verify();

    const two = report.digests.find((d) => d.key === digestKey(2))!;
    expect(two.valid).toBe(false);
    expect(two.problems).toContain("the signature does not match its contents");
    expect(two.problems.some((p) => p.includes(`but ${digestKey(3)} recorded`))).toBe(true);
    expect(report.digests.filter((d) => !d.valid).map((d) => d.key)).toEqual([digestKey(2)]);
  });

  it("catches a digest re-signed with a forger's key, whichever fingerprint it claims", async () => {
    const forger = generateKeyPairSync("ed25519");
    const raw = (await readDigest(store, digestKey(3)))!.raw as Record<string, string>;
    const text = stringToSign({
      digestEndTime: raw.digestEndTime!,
      digestKey: raw.digestKey!,
      bodySha256: sha256Hex(digestBodyBytes(raw)),
      previousDigestSignature: raw.previousDigestSignature!,
    });
    raw.signature = sign(null, Buffer.from(sha256Hex(text), "hex"), forger.privateKey).toString("hex");
    await writeFile(path(digestKey(3)), JSON.stringify(raw, null, 2));

    const report = await verify();

    expect(bad(report)).toEqual([`${digestKey(3)}: the signature does not match its contents`]);
  });

  it("names a raw file moved to another key, and where it went", async () => {
    const manifest = JSON.parse((await readStored(store, manifestKey("C2C", HOURS[2]!)))!.toString());
    const raw = manifest.files[1].key as string;
    await rename(path(raw), path(`${raw}.old`));

    const report = await verify();

    const check = report.objects.find((o) => o.key === raw)!;
    expect(check.status).toBe("moved");
    expect(check.detail).toContain(`moved to ${raw}.old`);
    expect(report.ok).toBe(false);
  });

  it("reports a manifest committed after the head as pending, and as unsealed once it is 2 hours old", async () => {
    const { key } = await writeArchivedHour(store, "Group", "2024050104");

    const now = await verify();
    const later = await verify({ now: Date.now() + 3 * 3_600_000 });

    expect(now.objects.find((o) => o.key === key)?.status).toBe("pending");
    expect(now.ok).toBe(true);
    expect(later.objects.find((o) => o.key === key)?.status).toBe("unsealed");
    expect(later.ok).toBe(false);
  });

  it("accepts a corrupt manifest replaced by a fresh one, its sealed bytes kept under manifests-corrupt/", async () => {
    const signer = await localSigner(root);
    const key = manifestKey("Group", "2024050105");
    await store.put(key, '{"version":1,"chatType":"Gro');
    await sealDigest({ store, signer, clock: systemClock });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await writeManifest(store, {
      version: 1,
      chatType: "Group",
      msgTime: "2024050105",
      status: "empty",
      files: [],
      archivedAt: new Date().toISOString(),
    });
    await sealDigest({ store, signer, clock: systemClock });

    const report = await verify();

    expect(bad(report)).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it("checks the media files of a sealed media manifest however many there are (150,000 here, all gone)", async () => {
    const count = 150_000;
    const key = (i: number) => `media/cos.example.com/b/${i}.jpg`;
    await writeMediaManifest(store, {
      version: 1,
      chatType: "C2C",
      msgTime: HOURS[0]!,
      capturedAt: "2024-05-01T02:30:00.000Z",
      items: Array.from({ length: count }, (_, i) => ({
        rawUrl: `https://${key(i).slice("media/".length)}`,
        status: "captured" as const,
        tencentStatus: 0 as const,
        key: key(i),
        size: 1,
        sha256: "0".repeat(64),
      })),
    });
    const signer = await localSigner(root);
    await sealDigest({ store, signer, clock: systemClock });

    const report = await verify();

    const media = report.objects.filter((o) => o.kind === "media file");
    expect(media).toHaveLength(count);
    expect(media.every((o) => o.status === "missing")).toBe(true);
    expect(report.ok).toBe(false);
  }, 120_000);
});
