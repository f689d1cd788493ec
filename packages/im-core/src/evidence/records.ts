import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as v from "valibot";
import { type EvidenceStatus, type VerificationRecord, VerificationRecordSchema } from "../schemas/digest.ts";
import { ensureDir, FILE_MODE } from "../store/local-fs-errors.ts";
import { LOCAL_STATE_DIR } from "../store/local-store.ts";
import type { ArchiveStore } from "../store/port.ts";
import { findHeadSeq, readDigest } from "./digest-file.ts";
import { digestKey, VERIFICATION_RECORD_KEY } from "./layout.ts";
import { readStored } from "./object-hash.ts";

/** Where the last verification's result is kept: DATA_DIR/.imvault locally, an object in a bucket. */
export interface VerificationRecords {
  read(): Promise<VerificationRecord | undefined>;
  write(record: VerificationRecord): Promise<void>;
}

function parse(text: string): VerificationRecord | undefined {
  try {
    const parsed = v.safeParse(VerificationRecordSchema, JSON.parse(text));
    return parsed.success ? parsed.output : undefined;
  } catch {
    return undefined;
  }
}

/** The local store's directory, when `store` is one (it keeps local state beside the archive). */
export function localRootOf(store: ArchiveStore): string | undefined {
  const root = (store as { root?: unknown }).root;
  return typeof root === "string" ? root : undefined;
}

/** The records of `store`: a file under DATA_DIR/.imvault/ on a local store, else an object. */
export function verificationRecords(store: ArchiveStore): VerificationRecords {
  const root = localRootOf(store);
  if (root !== undefined) {
    const dir = join(root, LOCAL_STATE_DIR, "verified");
    const path = join(dir, "last.json");
    return {
      async read() {
        return parse(await readFile(path, "utf8").catch(() => ""));
      },
      async write(record) {
        // ensureDir names the real cause (EROFS, say) where Node's recursive mkdir says ENOENT.
        await ensureDir(dir);
        const temp = `${path}.${process.pid}.tmp`;
        await writeFile(temp, `${JSON.stringify(record, null, 2)}\n`, { mode: FILE_MODE });
        await rename(temp, path);
      },
    };
  }
  return {
    async read() {
      const bytes = await readStored(store, VERIFICATION_RECORD_KEY).catch(() => undefined);
      return bytes === undefined ? undefined : parse(bytes.toString("utf8"));
    },
    async write(record) {
      await store.put(VERIFICATION_RECORD_KEY, `${JSON.stringify(record, null, 2)}\n`, {
        contentType: "application/json",
      });
    },
  };
}

/** The chain's head and the last verification, for `GET /v1/status` and `imvault status`. */
export async function evidenceStatus(store: ArchiveStore): Promise<EvidenceStatus> {
  const seq = await findHeadSeq(store);
  const head = seq === 0 ? undefined : await readDigest(store, digestKey(seq));
  const last = await verificationRecords(store).read();
  return {
    head:
      head === undefined
        ? null
        : { key: head.key, seq: head.seq, sealedAt: head.digest?.digestEndTime ?? new Date(0).toISOString() },
    lastVerified:
      last === undefined
        ? null
        : { at: last.verifiedAt, ok: last.ok, headKey: last.head?.key ?? null, summary: last.summary },
  };
}
